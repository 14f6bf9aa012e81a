// The decision log inside a real `triage serve` process: retention runs by itself, SIGTERM/SIGINT flush
// the queue, and in strict mode a kill -9 right after an answer loses nothing.
import Database from "better-sqlite3";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DecisionLog } from "../../src/store/index.js";
import { type ListeningProcess, startListening } from "../helpers/listening.js";
import { tempDir, trainTiers } from "../helpers/tiers.js";
import { makeDecision } from "./make-decision.js";

let work: string;
let model: string;

beforeAll(async () => {
  work = tempDir("triage-serve-log-");
  model = (await trainTiers(6, { out: join(work, "model") })).dir;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Served = ListeningProcess;

/** `triage serve` on 127.0.0.1, port 0, with the given config (and no reload watcher), as one process: the signals and kills below must reach the process holding the log. */
async function serve(name: string, config: object, args: string[]): Promise<Served> {
  const configPath = join(work, `${name}.json`);
  writeFileSync(configPath, JSON.stringify({ reload: { watch: false }, ...config }));
  return startListening(["serve", "--model", model, "--port", "0", "--host", "127.0.0.1", "--config", configPath, "--workers", "1", ...args], { TRIAGE_API_KEYS: "" });
}

async function route(url: string, requestId: string, text = `question number ${requestId}: how do I sort a list?`): Promise<void> {
  const res = await fetch(`${url}/v1/route`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": requestId }, body: JSON.stringify({ text }) });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { requestId: string }).requestId).toBe(requestId);
}

/** Rows as another process sees them (a read-only connection, as a kill left the file). */
function loggedIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT request_id FROM decisions ORDER BY id").all() as { request_id: string }[]).map((r) => r.request_id);
  } finally {
    db.close();
  }
}

describe("the decision log in a real triage serve process", () => {
  it("applies retention by age and by row count while serving, without `triage prune`", async () => {
    const path = join(work, "retention.db");
    const log = DecisionLog.open(path);
    for (const id of ["old-a", "old-b", "old-c"]) log.log(makeDecision({ requestId: id }), "an old question");
    log.close();
    const raw = new Database(path);
    raw.prepare("UPDATE decisions SET ts = ?").run(Date.now() - 60 * 86_400_000); // 60 days old
    raw.close();

    // Rules from the flags, the interval from the config file.
    const s = await serve("retention", { log: { retention: { every: "100ms" } } }, ["--log-db", path, "--log-max-rows", "4", "--log-older-than", "30d"]);
    await vi.waitFor(() => expect(loggedIds(path)).toEqual([]), { timeout: 20_000, interval: 50 }); // by age
    for (let i = 0; i < 7; i++) await route(s.url, `q${i}`);
    await vi.waitFor(() => expect(loggedIds(path)).toEqual(["q3", "q4", "q5", "q6"]), { timeout: 20_000, interval: 50 }); // by count
    s.child.kill("SIGTERM");
    expect(await s.exited).toEqual({ code: 0, signal: null });
  });

  it.each(["SIGTERM", "SIGINT"] as const)("%s writes every queued decision before exiting", async (signal) => {
    const path = join(work, `${signal}.db`);
    // A flush interval far longer than the test: only the signal handler can write these rows.
    const s = await serve(signal, { log: { path, flushIntervalMs: 600_000, batchSize: 10_000 } }, []);
    for (let i = 0; i < 5; i++) await route(s.url, `${signal}-${i}`);
    expect(loggedIds(path)).toEqual([]);
    s.child.kill(signal);
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(loggedIds(path)).toEqual([0, 1, 2, 3, 4].map((i) => `${signal}-${i}`));
  });

  it("strict: a kill -9 right after an answer leaves its decision in the log, with long texts cut to the cap", async () => {
    const path = join(work, "strict.db");
    const s = await serve("strict", { log: { flushIntervalMs: 600_000, batchSize: 10_000 } }, ["--log-db", path, "--log-durability", "strict"]);
    const long = "please review this code: " + "x = x + 1; ".repeat(80_000); // ~880 KB
    await route(s.url, "long", long);
    for (let i = 0; i < 10; i++) await route(s.url, `s${i}`);
    s.child.kill("SIGKILL");
    expect(await s.exited).toMatchObject({ signal: "SIGKILL" });

    const db = new Database(path, { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const ids = (db.prepare("SELECT request_id FROM decisions ORDER BY id").all() as { request_id: string }[]).map((r) => r.request_id);
    expect(ids).toEqual(["long", ...Array.from({ length: 10 }, (_, i) => `s${i}`)]);
    const row = db.prepare("SELECT length(text) AS stored, text_length AS whole FROM decisions WHERE request_id = 'long'").get();
    db.close();
    expect(row).toEqual({ stored: 4000, whole: long.length });
  });
});
