// `triage serve --workers 2` with providers [dead, intermittent, alive] (fake providers on loopback) and
// requests on fresh connections, which the primary hands to the two workers in turn: failures in a row
// are counted across the whole server, as in one process. `dead` gets exactly `failureThreshold` calls
// (not one worker's threshold plus the other's), and `intermittent`, which fails every other call (so
// one worker alone sees only its failures), never fails threshold times in a row and never opens.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { trainIntoRegistry } from "../../../src/retrain/publish.js";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { type ListeningProcess, startListening } from "../../helpers/listening.js";
import { tempDir, tierExamples, TIERS_CONFIG, useEncoder } from "../../helpers/tiers.js";
import { requestWorker } from "../../helpers/worker-request.js";

const THRESHOLD = 3;
/** Long enough that `dead` stays open for the whole test. */
const COOLDOWN_MS = 600_000;

let work: string;
let dead: FakeOpenAI;
let intermittent: FakeOpenAI;
let alive: FakeOpenAI;
let server: ListeningProcess | undefined;
let port = 0;

beforeAll(async () => {
  work = tempDir("triage-breaker-counts-");
  const registryDir = join(work, "models");
  await trainIntoRegistry(registryDir, { data: tierExamples("train", 8), config: TIERS_CONFIG, encoder: await useEncoder(), folds: 3 });
  dead = await startFakeOpenAI({ handler: () => ({ type: "error", status: 500, message: "provider is down" }) });
  // Its 1st, 3rd, 5th... call fails.
  intermittent = await startFakeOpenAI({
    handler: (_request, index) => (index % 2 === 0 ? { type: "error", status: 500, message: "provider hiccup" } : { type: "content", content: "ok" }),
  });
  alive = await startFakeOpenAI();
  const provider = (name: string, fake: FakeOpenAI) => ({
    name,
    baseURL: fake.baseURL,
    apiKey: "sk-fake",
    breaker: { failureThreshold: THRESHOLD, cooldownMs: COOLDOWN_MS },
  });
  const configPath = join(work, "serve.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      // Every tier tries them in this order; the budget never stops a failover here.
      providers: [provider("dead", dead), provider("intermittent", intermittent), provider("alive", alive)],
      retry: { maxAttempts: 3, budgetRatio: 2, budgetBurst: 1000 },
    }),
  );
  server = await startListening(["serve", "--model", registryDir, "--port", "0", "--host", "127.0.0.1", "--config", configPath, "--workers", "2"], {
    TRIAGE_API_KEYS: "",
    TRIAGE_ADMIN_KEYS: "",
  });
  port = server.port;
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([dead, intermittent, alive].map((f) => f?.close()));
  rmSync(work, { recursive: true, force: true });
});

let asked = 0;
/** A chat request on a fresh connection: the primary hands each one to the next worker in turn. */
async function chat(): Promise<string | undefined> {
  const body = { model: "auto", messages: [{ role: "user", content: `question ${asked++}: what is the capital of France?` }] };
  const r = await requestWorker({ port, method: "POST", path: "/v1/chat/completions", body });
  expect(r.status, r.body).toBe(200);
  return r.worker;
}

/** Polls /healthz on fresh connections until both workers have last reported `provider` as `health` (bounded). */
async function bothWorkersSay(provider: string, health: string): Promise<void> {
  const seen = new Map<string, string>();
  await vi.waitFor(
    async () => {
      const h = await requestWorker({ port, method: "GET", path: "/healthz" });
      if (h.worker) seen.set(h.worker, (JSON.parse(h.body) as { providers: Record<string, string> }).providers[provider]);
      expect([...seen.keys()].sort()).toEqual(["1", "2"]);
      for (const [worker, said] of seen) expect(said, `worker ${worker} says ${provider} is ${said}`).toBe(health);
    },
    { timeout: 20_000, interval: 50 },
  );
}

describe("serve --workers 2: failures in a row are counted across the workers", () => {
  it("a dead provider gets threshold calls from the whole server; an intermittent one never opens", async () => {
    // One request at a time, each awaited: a worker tells the primary of a failure before it fails over
    // to the next provider and answers, and the primary relays it on the same channel over which it hands
    // the next connection to a worker, so every worker has counted every earlier call's outcome before it
    // makes its own call. No call is out while news travels, so the count is exact.
    const workers = new Set<string | undefined>();
    const requests = 4 * THRESHOLD;
    for (let i = 0; i < requests; i++) workers.add(await chat());
    expect(workers).toEqual(new Set(["1", "2"]));
    // Per-worker counting would let each worker make threshold - 1 calls before the first one opens.
    expect(dead.chatRequests()).toHaveLength(THRESHOLD);
    // Every request reached `intermittent` (a failure, then a success at the other worker, which clears
    // both workers' counts): its breaker never opened. Per-worker counting opens it at the worker that
    // gets all its failures.
    expect(intermittent.chatRequests()).toHaveLength(requests);
    await bothWorkersSay("dead", "down");
    await bothWorkersSay("intermittent", "healthy");
  });
});
