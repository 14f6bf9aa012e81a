// `triage serve --workers 2` with providers [dead, flaky, alive] (fake providers on loopback, the first two
// answering 500): once one worker's breaker for a provider opens, the other worker's opens too, so the
// provider gets `failureThreshold` failed calls from the whole server, not from each worker; and once one
// worker's trial call finds a provider back, the other worker's breaker closes without a trial of its own.
import { Agent } from "node:http";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { trainIntoRegistry } from "../../../src/retrain/publish.js";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { type ListeningProcess, startListening } from "../../helpers/listening.js";
import { tempDir, tierExamples, TIERS_CONFIG, useEncoder } from "../../helpers/tiers.js";
import { requestWorker, type WorkerReply } from "../../helpers/worker-request.js";

const THRESHOLD = 3;
/** Long enough that `dead` stays open for the whole test. */
const LONG_COOLDOWN_MS = 600_000;
/** Short enough that the test can wait for `flaky`'s trial call. */
const SHORT_COOLDOWN_MS = 1_500;

let work: string;
let dead: FakeOpenAI;
let flaky: FakeOpenAI;
let alive: FakeOpenAI;
let server: ListeningProcess | undefined;
let port = 0;

beforeAll(async () => {
  work = tempDir("triage-breakers-");
  const registryDir = join(work, "models");
  await trainIntoRegistry(registryDir, { data: tierExamples("train", 8), config: TIERS_CONFIG, encoder: await useEncoder(), folds: 3 });
  const failing = () => ({ type: "error" as const, status: 500, message: "provider is down" });
  dead = await startFakeOpenAI({ handler: failing });
  flaky = await startFakeOpenAI({ handler: failing });
  alive = await startFakeOpenAI();
  const provider = (name: string, fake: FakeOpenAI, cooldownMs: number) => ({
    name,
    baseURL: fake.baseURL,
    apiKey: "sk-fake",
    breaker: { failureThreshold: THRESHOLD, cooldownMs },
  });
  const configPath = join(work, "serve.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      // Every tier tries them in this order; the budget never stops a failover here.
      providers: [provider("dead", dead, LONG_COOLDOWN_MS), provider("flaky", flaky, SHORT_COOLDOWN_MS), provider("alive", alive, LONG_COOLDOWN_MS)],
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
  await Promise.all([dead, flaky, alive].map((f) => f?.close()));
  rmSync(work, { recursive: true, force: true });
});

type Reply = WorkerReply;

/** A request on a fresh connection (handed to the workers in turn), or on `agent`'s one kept-alive connection (one worker). */
const call = (method: "GET" | "POST", path: string, body?: object, agent: Agent | false = false) => requestWorker({ port, method, path, body, agent });

let asked = 0;
async function chat(agent: Agent | false = false): Promise<Reply> {
  const r = await call("POST", "/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: `question ${asked++}: what is the capital of France?` }] }, agent);
  expect(r.status, r.body).toBe(200);
  return r;
}

/** Polls /healthz on fresh connections until both workers have last reported `provider` as one of `health` (bounded). */
async function bothWorkersSay(provider: string, ...health: string[]): Promise<void> {
  const seen = new Map<string, string>();
  await vi.waitFor(
    async () => {
      const h = await call("GET", "/healthz");
      if (h.worker) seen.set(h.worker, (JSON.parse(h.body) as { providers: Record<string, string> }).providers[provider]);
      expect([...seen.keys()].sort()).toEqual(["1", "2"]);
      for (const [worker, said] of seen) expect(health, `worker ${worker} says ${provider} is ${said}`).toContain(said);
    },
    { timeout: 20_000, interval: 50 },
  );
}

describe("serve --workers 2: circuit breakers shared by the workers", () => {
  it("a provider that fails threshold times at one worker is no longer called by either worker", async () => {
    // One kept-alive connection: every call goes to the same worker, which alone finds `dead` failing.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await chat(agent);
    while (dead.chatRequests().length < THRESHOLD) expect((await chat(agent)).worker).toBe(first.worker);
    agent.destroy();
    await bothWorkersSay("dead", "down");

    // Fresh connections, so both workers answer: neither calls `dead` again during its cooldown.
    const workers = new Set<string | undefined>();
    for (let i = 0; i < 4 * THRESHOLD; i++) workers.add((await chat()).worker);
    expect(workers).toEqual(new Set(["1", "2"]));
    // Each request went to `dead` once until the first worker's breaker opened; none reached it afterwards
    // (one at a time, so no call of the other worker was out while the news travelled).
    expect(dead.chatRequests()).toHaveLength(THRESHOLD);
    expect(alive.chatRequests().length).toBeGreaterThanOrEqual(5 * THRESHOLD);
  });

  it("a provider back at one worker's trial call is closed at the other worker too", async () => {
    // The requests above opened `flaky` at both workers as they did `dead` (its short cooldown may have passed since).
    await bothWorkersSay("flaky", "down", "recovering");
    flaky.setHandler(() => ({ type: "content", content: "back" }));
    const before = flaky.chatRequests().length;
    // Once a cooldown has passed, one worker's trial call reaches `flaky` and succeeds.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await vi.waitFor(
      async () => {
        await chat(agent);
        expect(flaky.chatRequests().length).toBeGreaterThan(before);
      },
      { timeout: 30_000, interval: 100 },
    );
    agent.destroy();
    // The other worker got only /healthz since: without the news it would say "recovering" until a trial of its own.
    await bothWorkersSay("flaky", "healthy");
    expect(flaky.chatRequests().length).toBe(before + 1);
  });
});
