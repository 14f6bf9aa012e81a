/**
 * The PostgreSQL decision log against a real throwaway server: the same behaviour as the SQLite file
 * (rows, filters, feedback, stats, export, prune, schema versions), its errors, and both stores giving
 * the same answers for the same decisions.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DecisionLog, LATEST_SCHEMA_VERSION, NOT_COMMITTED, decisionLogConfigSchema, openDecisionLog, startRetention, type DecisionStore } from "../../../src/store/index.js";
import { PgDecisionLog } from "../../../src/store/postgres/log.js";
import { PG_MIGRATIONS } from "../../../src/store/postgres/schema.js";
import { MIGRATIONS } from "../../../src/store/schema.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { makeDecision } from "../make-decision.js";
import { tempDir } from "../../helpers/temp.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

async function all(store: DecisionStore) {
  const out = [];
  for await (const d of store.rows()) out.push(d);
  return out;
}

function sink(): { out: Writable; text: () => string } {
  let text = "";
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { out, text: () => text };
}

/** An outcome model's choice, made at the request's dial. */
const DIAL = { maxCost: 0.3, rule: "lambda" as const, setting: 0.125, from: "request" as const };
const OUTCOME = {
  expectedQuality: 0.7,
  expectedCostUsd: 0.002,
  runnerUp: { model: "strong", expectedQuality: 0.9, expectedCostUsd: 0.02 },
  why: "why",
  dial: DIAL,
  escalation: ["strong"],
};

/** Writes the same decisions and feedback to a store. */
async function fill(store: DecisionStore): Promise<void> {
  for (let i = 0; i < 30; i++)
    store.log(
      makeDecision({
        requestId: `req-${String(i).padStart(3, "0")}`,
        label: i % 3 === 0 ? "strong" : "cheap",
        lowConfidence: i % 5 === 0,
        latencyMs: i,
        confidence: i === 7 ? Number.NaN : 0.8,
        ...(i % 4 === 0 ? { fallback: { label: i % 8 === 0 ? "strong" : "cheap", latencyMs: 12 } } : {}),
        ...(i % 6 === 1 ? { conversation: { id: `conv-${i % 2}`, sticky: i > 6, routed: "cheap" } } : {}),
        ...(i % 10 === 2 ? { outcome: OUTCOME } : {}),
      }),
      i === 9 ? "a NUL \0 inside" : `query ${i}`,
      i % 2 ? { team: "a" } : undefined,
    );
  await store.feedback("req-003", { kind: "label", humanLabel: "cheap", ts: 5 });
  await store.feedback("req-004", { kind: "escalated", ts: 6 });
  await store.feedback("req-004", { kind: "outcome", finalModel: "big", tokensIn: 100, tokensOut: 50, ts: 7 });
  await store.feedback("req-005", { kind: "outcome", costUsd: 0.25, ts: 8 });
  await store.feedback("req-007", { kind: "score", score: 0.75, finalModel: "big", ts: 9 });
}

it("has the SQLite log's migrations, with the same numbers and descriptions", () => {
  expect(PG_MIGRATIONS.map((m) => [m.version, m.description])).toEqual(MIGRATIONS.map((m) => [m.version, m.description]));
});

describe.skipIf(!bin && !process.env.CI)("PostgreSQL decision log", () => {
  let server: TestPostgres;
  let dir: string;
  let n = 0;
  const freshDb = () => server.createDatabase(`t${++n}`);
  beforeAll(async () => {
    server = await startPostgres();
    dir = tempDir("triage-pglog-");
  }, 120_000);
  afterAll(() => {
    server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers every read as the SQLite file does for the same decisions", async () => {
    const pgLog = await openDecisionLog(freshDb());
    const sqlite = await openDecisionLog(join(dir, "same.db"));
    expect(pgLog).toBeInstanceOf(PgDecisionLog);
    expect(sqlite).toBeInstanceOf(DecisionLog);
    await fill(pgLog);
    await fill(sqlite);
    // Timestamps differ, and PostgreSQL text cannot hold U+0000 (it is kept as U+FFFD).
    const strip = (rows: Awaited<ReturnType<typeof all>>) => rows.filter((d) => d.requestId !== "req-009").map(({ ts: _ts, ...r }) => r);
    expect(strip(await all(pgLog))).toEqual(strip(await all(sqlite)));
    expect((await all(pgLog)).find((d) => d.requestId === "req-009")?.text).toBe("a NUL \uFFFD inside");
    // The newer columns round-trip too: a conversation and whether it was kept, a per-model score.
    const [seven] = (await all(pgLog)).filter((d) => d.requestId === "req-007");
    expect([seven.conversation, seven.sticky]).toEqual(["conv-1", true]);
    expect(seven.feedback.map((f) => f.score)).toEqual([0.75]);
    // An outcome decision's dial (schema 5); tier decisions have none.
    expect((await all(pgLog)).filter((d) => d.dial !== null).map((d) => [d.requestId, d.dial])).toEqual(["req-002", "req-012", "req-022"].map((id) => [id, DIAL]));
    for (const filters of [
      { label: "strong" },
      { lowConfidence: true },
      { fallback: true },
      { hasFeedback: true },
      { feedbackKind: "outcome" as const },
      { feedbackKind: "score" as const },
      { requestIdPrefix: "req-00" },
    ])
      expect(await pgLog.count(filters)).toBe(await sqlite.count(filters));
    expect((await pgLog.query({ order: "desc", limit: 3 })).map((d) => d.requestId)).toEqual(["req-029", "req-028", "req-027"]);
    const prices = { cheap: { input: 1, output: 2 }, strong: { input: 10, output: 20 }, big: { input: 5, output: 5 } };
    expect(await pgLog.stats({ prices })).toEqual(await sqlite.stats({ prices }));
    const a = sink();
    const b = sink();
    expect(await pgLog.export({ label: "cheap" }, "csv", a.out)).toBe(20);
    await sqlite.export({ label: "cheap" }, "csv", b.out);
    const noTs = (csv: string) => csv.split("\r\n").map((l) => l.split(",").slice(3).join(","));
    expect(noTs(a.text())).toEqual(noTs(b.text()));
    expect(await pgLog.prune({ maxRows: 10 })).toBe(await sqlite.prune({ maxRows: 10 }));
    expect(await pgLog.count()).toBe(10);
    await pgLog.close();
    await sqlite.close();
  });

  it("keeps the first of two rows with one request id, and feedback ids can be deleted", async () => {
    const log = await PgDecisionLog.open(freshDb());
    log.log(makeDecision({ requestId: "dup", label: "cheap" }), "first");
    log.log(makeDecision({ requestId: "dup", label: "strong" }), "second");
    await log.flush();
    expect(log.counters).toMatchObject({ written: 1, duplicates: 1, dropped: 0 });
    const id = await log.feedback("dup", { kind: "thumbs", thumbs: 1 });
    await log.deleteFeedback(id);
    await expect(log.deleteFeedback(id)).rejects.toThrow(`feedback ${id} not found`);
    await expect(log.feedback("nope", { kind: "thumbs", thumbs: 1 })).rejects.toThrow('unknown request id "nope"');
    expect((await log.query()).map((d) => [d.text, d.feedback.length])).toEqual([["first", 0]]);
    // Feedback still being written when the log closes is written first.
    const late = log.feedback("dup", { kind: "outcome", costUsd: 0.5 });
    await log.close();
    expect(await late).toBeGreaterThan(id);
  });

  it("strict: log() resolves once the row is committed, and several in one turn commit together", async () => {
    const url = freshDb();
    const log = await PgDecisionLog.open(url, { durability: "strict" });
    const acks = Array.from({ length: 50 }, (_, i) => log.log(makeDecision({ requestId: `s${i}` }), `q${i}`));
    await Promise.all(acks);
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    expect((await raw.query<{ n: string }>("SELECT COUNT(*) AS n FROM decisions")).rows[0].n).toBe("50");
    await raw.end();
    expect(log.counters.flushes).toBeLessThan(50);
    await log.close();
  });

  it("queued feedback is written after its decision in the same batch; an unknown request id is reported, the rest stored", async () => {
    const errors: Error[] = [];
    const log = await PgDecisionLog.open(freshDb(), { flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    log.log(makeDecision({ requestId: "q1" }), "first");
    log.queueFeedback("q1", { kind: "outcome", finalModel: "m", tokensIn: 3 });
    log.log(makeDecision({ requestId: "q2" }), "second");
    log.queueFeedback("q2", { kind: "score", score: 0 });
    expect(log.pendingCount).toBe(4);
    expect(await log.flush()).toBe(4);
    log.queueFeedback("nobody", { kind: "outcome" });
    log.queueFeedback("q1", { kind: "thumbs", thumbs: 1 });
    await log.flush();
    expect(errors.map((e) => e.message)).toEqual(["decision log: feedback (outcome) for request nobody not stored: no decision with that id"]);
    expect((await log.query()).map((d) => [d.requestId, d.feedback.map((f) => f.kind)])).toEqual([
      ["q1", ["outcome", "thumbs"]],
      ["q2", ["score"]],
    ]);
    expect(log.counters).toMatchObject({ written: 2, duplicates: 0, dropped: 1 });
    await log.close();
  });

  it("strict: queued feedback resolves once committed, with its decision's commit", async () => {
    const url = freshDb();
    const log = await PgDecisionLog.open(url, { durability: "strict" });
    const decision = log.log(makeDecision({ requestId: "s" }), "q");
    const feedback = log.queueFeedback("s", { kind: "escalated", finalModel: "big" });
    await Promise.all([decision, feedback]);
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    expect((await raw.query("SELECT request_id, kind FROM feedback")).rows).toEqual([{ request_id: "s", kind: "escalated" }]);
    await raw.end();
    await log.close();
  });

  it("strict: a decision the database refuses rejects with NOT_COMMITTED, the others are stored", async () => {
    const log = await PgDecisionLog.open(freshDb(), { durability: "strict", onError: () => {} });
    const bad = makeDecision({ requestId: "bad", lowConfidence: 2 as unknown as boolean, stage: null as unknown as "full" });
    const results = await Promise.allSettled([log.log(makeDecision({ requestId: "good" }), "ok"), log.log(bad, "x")]);
    expect(results[0].status).toBe("fulfilled");
    expect(results[1].status).toBe("rejected");
    expect(((results[1] as PromiseRejectedResult).reason as { code: string }).code).toBe(NOT_COMMITTED);
    expect((await log.query()).map((d) => d.requestId)).toEqual(["good"]);
    await log.close();
  });

  it("applies retention on a timer while the log is written", async () => {
    const log = await PgDecisionLog.open(freshDb());
    for (let i = 0; i < 50; i++) log.log(makeDecision({ requestId: `r${String(i).padStart(2, "0")}` }), `q${i}`);
    await log.flush();
    const errors: Error[] = [];
    const timer = startRetention(log, decisionLogConfigSchema.parse({ retention: { maxRows: 10, every: "50ms" } }).retention, (e) => errors.push(e))!;
    await vi.waitFor(async () => expect(await log.count()).toBe(10), { timeout: 10_000, interval: 50 });
    log.log(makeDecision({ requestId: "new" }), "new");
    await log.flush();
    await vi.waitFor(async () => expect((await log.query()).map((d) => d.requestId)).toEqual([...Array.from({ length: 9 }, (_, i) => `r${41 + i}`), "new"]), {
      timeout: 10_000,
      interval: 50,
    });
    timer.stop();
    expect(timer.deleted).toBe(41);
    expect(errors).toEqual([]);
    await log.close();
  });

  it("refuses a newer schema and a database holding other tables, and reads an older one read-only", async () => {
    const url = freshDb();
    await (await PgDecisionLog.open(url)).close();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await raw.query("INSERT INTO schema_version VALUES ($1, 0, 'from the future')", [LATEST_SCHEMA_VERSION + 1]);
    await expect(PgDecisionLog.open(url)).rejects.toThrow(`schema version ${LATEST_SCHEMA_VERSION + 1}, newer than this triage understands`);
    await raw.end();

    const other = freshDb();
    const c = new pg.Client({ connectionString: other });
    await c.connect();
    await c.query("CREATE TABLE decisions (x int)");
    await c.end();
    await expect(PgDecisionLog.open(other)).rejects.toThrow("not a triage decision log");

    await expect(PgDecisionLog.open(freshDb(), { readonly: true })).rejects.toThrow("no decision log there");
  });

  it("when the server goes away: batched rows stay queued and the error is reported, strict log() rejects NOT_COMMITTED", async () => {
    const own = await startPostgres();
    const errors: Error[] = [];
    const batched = await PgDecisionLog.open(own.url, { onError: (e) => errors.push(e) });
    const strict = await PgDecisionLog.open(own.url, { durability: "strict", onError: (e) => errors.push(e) });
    batched.log(makeDecision({ requestId: "before" }), "q");
    await batched.flush();
    own.stop();
    expect(() => batched.log(makeDecision({ requestId: "after" }), "q")).not.toThrow();
    await expect(batched.flush()).rejects.toThrow(/decision log postgres:\/\/triage@127\.0\.0\.1:\d+\/triage: writing 1 decisions failed/);
    expect(batched.pendingCount).toBe(1);
    expect(batched.counters.dropped).toBe(0);
    const refused = await strict.log(makeDecision({ requestId: "strict" }), "q")!.catch((e: { code: string }) => e.code);
    expect(refused).toBe(NOT_COMMITTED);
    // As a Router sink drops it: the failure is reported, and no unhandled rejection ends the process.
    void strict.log(makeDecision({ requestId: "dropped" }), "q");
    await vi.waitFor(() => expect(errors.some((e) => e.message.includes("writing 1 decisions failed"))).toBe(true));
    await expect(batched.close()).rejects.toThrow("writing 1 decisions failed");
    await strict.close();
  }, 60_000);

  it("names the URL without its password when the server is unreachable or the URL is bad", async () => {
    const url = `postgres://triage:s3cret@127.0.0.1:${server.port + 1}/triage`;
    const err = await openDecisionLog(url).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^decision log postgres:\/\/triage:\*\*\*@127\.0\.0\.1:\d+\/triage: cannot connect: /);
    expect((err as Error).message).not.toContain("s3cret");
    expect((err as Error).message.split("\n")).toHaveLength(1);
    const bad = await openDecisionLog("postgres://u:pw@host:notaport/db").catch((e: Error) => e);
    expect((bad as Error).message).toBe("decision log postgres://u:***@host:notaport/db: not a valid postgres:// URL");
  });
});
