// `triage serve --workers 2`: real processes sharing one port on loopback. Requests spread over both
// workers, /v1/stats and /metrics answer for the whole server, a killed worker is restarted, SIGTERM
// drains every worker into the shared decision log, a promote or an admin reload reaches every worker,
// and a conversation keeps its model whichever worker gets its next turn.
import Database from "better-sqlite3";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ModelRegistry } from "../../src/model/registry.js";
import { trainIntoRegistry } from "../../src/retrain/publish.js";
import { train } from "../../src/train/train.js";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai.js";
import { type ListeningProcess, startListening } from "../helpers/listening.js";
import { tempDir, tierExamples, TIERS_CONFIG, useEncoder } from "../helpers/tiers.js";
import { requestWorker, type WorkerReply } from "../helpers/worker-request.js";

let work: string;
let registryDir: string;
let fake: FakeOpenAI;
let secondVersion: string;

beforeAll(async () => {
  work = tempDir("triage-cluster-");
  registryDir = join(work, "models", "tiers");
  const encoder = await useEncoder();
  await trainIntoRegistry(registryDir, { data: tierExamples("train", 8), config: TIERS_CONFIG, encoder, folds: 3 });
  // A second version on disk, promoted by the last test.
  const second = await train({ data: tierExamples("train", 12), config: TIERS_CONFIG, encoder, folds: 3, out: new ModelRegistry(registryDir).versionDir("v0002") });
  secondVersion = second.manifest.version;
  fake = await startFakeOpenAI();
}, 120_000);

afterAll(async () => {
  await fake?.close();
  rmSync(work, { recursive: true, force: true });
});

type Served = ListeningProcess & { listening: { workers: number; modelVersion: string } };

const running: Served[] = [];
afterAll(() => {
  for (const s of running) void s.stop("SIGKILL");
});

async function serve(name: string, config: object, args: string[] = []): Promise<Served> {
  const configPath = join(work, `${name}.json`);
  writeFileSync(configPath, JSON.stringify({ providers: [{ name: "fake", baseURL: fake.baseURL, apiKey: "sk-fake" }], ...config }));
  const started = await startListening(["serve", "--model", registryDir, "--port", "0", "--host", "127.0.0.1", "--config", configPath, "--workers", "2", ...args], {
    TRIAGE_API_KEYS: "",
    TRIAGE_ADMIN_KEYS: "",
  });
  const served = { ...started, listening: started.line as unknown as Served["listening"] };
  running.push(served);
  return served;
}

type Reply = WorkerReply;

/** One request on a connection of its own (no keep-alive), so each one is handed to a worker afresh. */
const call = (port: number, method: "GET" | "POST", path: string, body?: object, headers: Record<string, string> = {}) => requestWorker({ port, method, path, body, headers });

const route = (port: number, id: string) => call(port, "POST", "/v1/route", { text: `question ${id}: how do I sort a list in Python?` }, { "x-request-id": id });
const chat = (port: number, id: string) =>
  call(port, "POST", "/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: `question ${id}: what is the capital of France?` }] }, { "x-request-id": id });

/** Worker pids by slot, from the primary's "worker N (pid P) listening" lines (the latest per slot). */
function workerPids(stderr: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const m of stderr.matchAll(/worker (\d+) \(pid (\d+)\) listening/g)) pids.set(m[1], Number(m[2]));
  return pids;
}

function loggedIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT request_id FROM decisions").all() as { request_id: string }[]).map((r) => r.request_id);
  } finally {
    db.close();
  }
}

describe("triage serve --workers 2", () => {
  let s: Served;
  const logPath = () => join(work, "shared.db");

  it("spreads requests over both workers; /v1/stats and /metrics on any worker count every request", async () => {
    s = await serve("shared", { reload: { watch: true, intervalMs: 100 } }, ["--log-db", logPath()]);
    expect(s.listening.workers).toBe(2);
    const replies: Reply[] = [];
    for (let i = 0; i < 8; i++) replies.push(await chat(s.port, `chat-${i}`));
    for (let i = 0; i < 6; i++) replies.push(await route(s.port, `route-${i}`));
    expect(replies.map((r) => r.status)).toEqual(Array(14).fill(200));
    expect(new Set(replies.map((r) => r.worker))).toEqual(new Set(["1", "2"]));

    // Asked twice on fresh connections: each worker answers for the whole server.
    const answeredBy = new Set<string | undefined>();
    for (let i = 0; i < 4 && answeredBy.size < 2; i++) {
      const stats = await call(s.port, "GET", "/v1/stats");
      expect(stats.status).toBe(200);
      answeredBy.add(stats.worker);
      const body = JSON.parse(stats.body) as { server: { requests: number }; log: { count: number }; workers: number };
      expect(body.workers).toBe(2);
      expect(body.server.requests).toBe(8); // chat requests answered
      expect(body.log.count).toBe(14); // every decision, from both workers' queues
    }
    expect(answeredBy.size).toBe(2);

    const metrics = await call(s.port, "GET", "/metrics");
    expect(metrics.body).toMatch(/^triage_http_requests_total\{route="\/v1\/chat\/completions",status="200"\} 8$/m);
    expect(metrics.body).toMatch(/^triage_http_requests_total\{route="\/v1\/route",status="200"\} 6$/m);
  });

  it("a conversation whose next turn goes to the other worker keeps its first turn's model", async () => {
    const simple = "hello"; // SIMPLE by the tier config's rules
    const dear = "Construct a new axiomatization of probability that handles self-locating beliefs, and apply it to the Sleeping Beauty problem.";
    const routedModel = async (text: string) => (JSON.parse((await call(s.port, "POST", "/v1/route", { text })).body) as { model: string }).model;
    const cheapModel = await routedModel(simple);
    expect(await routedModel(dear)).not.toBe(cheapModel); // a new conversation would take a dearer model for it
    const turn = async (messages: { role: string; content: string }[]) => {
      const r = await call(s.port, "POST", "/v1/chat/completions", { model: "auto", messages });
      expect(r.status, r.body).toBe(200);
      return { worker: r.worker, model: (JSON.parse(r.body) as { model: string }).model };
    };
    const first = [
      { role: "system", content: "answer across workers" },
      { role: "user", content: simple },
    ];
    const one = await turn(first);
    expect(one.model).toBe(cheapModel);
    // Each call is a connection of its own, handed to the workers in turn: within a few, one reaches the other worker.
    const later: { worker: string | undefined; model: string }[] = [];
    for (let i = 0; i < 6 && !later.some((t) => t.worker !== one.worker); i++)
      later.push(await turn([...first, { role: "assistant", content: "hi there" }, { role: "user", content: dear }]));
    expect(later.some((t) => t.worker !== one.worker)).toBe(true);
    expect(later.map((t) => t.model)).toEqual(later.map(() => cheapModel));
  });

  it("the dashboard's CSRF token from one worker's page is accepted by the other worker", async () => {
    const tokens = new Map<string, string>();
    for (let i = 0; i < 6 && tokens.size < 2; i++) {
      const page = await call(s.port, "GET", "/dashboard/decisions");
      expect(page.status).toBe(200);
      const csrf = /<meta name="triage-csrf" content="([^"]+)">/.exec(page.body)?.[1];
      if (page.worker && csrf) tokens.set(page.worker, csrf);
    }
    expect([...tokens.keys()].sort()).toEqual(["1", "2"]);
    expect(tokens.get("1")).toBe(tokens.get("2"));
    // An empty label is refused by the handler (400), not by the CSRF check (403), whichever worker gets it.
    for (let i = 0; i < 4; i++) {
      const r = await call(s.port, "POST", "/dashboard/api/feedback", {}, { "x-triage-csrf": tokens.get("1")! });
      expect(r.status, r.body).not.toBe(403);
    }
  });

  it("serves a promoted version from every worker", async () => {
    const before = JSON.parse((await call(s.port, "GET", "/healthz")).body) as { modelVersion: string };
    expect(before.modelVersion).not.toBe(secondVersion);
    await new ModelRegistry(registryDir).promote("v0002");
    const seen = new Set<string>();
    await vi.waitFor(
      async () => {
        const h = await call(s.port, "GET", "/healthz");
        if ((JSON.parse(h.body) as { modelVersion: string }).modelVersion === secondVersion && h.worker) seen.add(h.worker);
        expect(seen).toEqual(new Set(["1", "2"]));
      },
      { timeout: 30_000, interval: 50 },
    );
  });

  it("restarts a worker killed with SIGKILL, and the server keeps answering meanwhile", async () => {
    const pids = workerPids(s.stderr());
    const victim = pids.get("2")!;
    process.kill(victim, "SIGKILL");
    await vi.waitFor(() => expect(s.stderr()).toContain(`worker 2 (pid ${victim}) exited with signal SIGKILL; restarting it in`), { timeout: 20_000, interval: 20 });
    for (let i = 0; i < 4; i++) expect((await route(s.port, `during-${i}`)).status).toBe(200);
    await vi.waitFor(() => expect(workerPids(s.stderr()).get("2")).not.toBe(victim), { timeout: 60_000, interval: 50 });
    const after = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) {
      const r = await route(s.port, `after-${i}`);
      expect(r.status).toBe(200);
      after.add(r.worker);
    }
    expect(after).toEqual(new Set(["1", "2"]));
    s.child.kill("SIGTERM");
    expect(await s.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});

describe("the shared decision log", () => {
  it("SIGTERM drains both workers and exits 0 with every acknowledged decision in the log", async () => {
    const path = join(work, "drain.db");
    // Nothing is written before shutdown: only the drain's flush puts the rows there.
    const s = await serve("drain", { reload: { watch: false }, log: { flushIntervalMs: 600_000, batchSize: 10_000 } }, ["--log-db", path]);
    const acknowledged: string[] = [];
    const workers = new Set<string | undefined>();
    const send = async (id: string) => {
      try {
        const r = await route(s.port, id);
        if (r.status === 200) {
          acknowledged.push(id);
          workers.add(r.worker);
        }
      } catch {
        // refused once the server stopped listening: not acknowledged, so not owed a row
      }
    };
    for (let i = 0; i < 10; i++) await send(`before-${i}`);
    // More in flight while the signal arrives.
    const inFlight = Array.from({ length: 20 }, (_, i) => send(`during-${i}`));
    s.child.kill("SIGTERM");
    await Promise.all(inFlight);
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(workers).toEqual(new Set(["1", "2"]));
    expect(acknowledged.length).toBeGreaterThanOrEqual(10);
    expect(new Set(loggedIds(path))).toEqual(new Set(acknowledged));
  }, 90_000);

  let strict: Served;
  it("strict durability: two workers committing to one SQLite file lose and double nothing", async () => {
    const path = join(work, "strict.db");
    strict = await serve("strict", { reload: { watch: false } }, ["--log-db", path, "--log-durability", "strict"]);
    const ids = Array.from({ length: 160 }, (_, i) => `strict-${i}`);
    const replies: Reply[] = [];
    for (let i = 0; i < ids.length; i += 16) replies.push(...(await Promise.all(ids.slice(i, i + 16).map((id) => route(strict.port, id)))));
    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(replies.map((r) => r.worker))).toEqual(new Set(["1", "2"]));
    // Committed before each answer left: another process sees every row while the server still runs.
    expect(loggedIds(path).sort()).toEqual([...ids].sort());
  }, 90_000);

  it("POST /admin/reload on one worker reloads the other too (no watcher here)", async () => {
    const version = async () => {
      const h = await call(strict.port, "GET", "/healthz");
      return { worker: h.worker, version: (JSON.parse(h.body) as { modelVersion: string }).modelVersion };
    };
    const before = (await version()).version;
    const registry = new ModelRegistry(registryDir);
    if (registry.current() === "v0002") await registry.rollback();
    else await registry.promote("v0002");
    const reloaded = await call(strict.port, "POST", "/admin/reload", {});
    expect(reloaded.status).toBe(200);
    const after = (JSON.parse(reloaded.body) as { version: string }).version;
    expect(after).not.toBe(before);
    const seen = new Set<string>();
    await vi.waitFor(
      async () => {
        const v = await version();
        if (v.version === after && v.worker) seen.add(v.worker);
        expect(seen).toEqual(new Set(["1", "2"]));
      },
      { timeout: 30_000, interval: 50 },
    );
    strict.child.kill("SIGTERM");
    expect(await strict.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
