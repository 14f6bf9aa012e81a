import Database from "better-sqlite3";
import { parse as parseCsv } from "csv-parse/sync";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sha256 } from "../../src/common/hash.js";
import { DecisionLog, LATEST_SCHEMA_VERSION, type LoggedDecision } from "../../src/store/index.js";
import { makeDecision } from "./make-decision.js";
import { tempDir } from "../helpers/temp.js";

let dir: string;
let path: string;
const opened: DecisionLog[] = [];
function open(options: Parameters<typeof DecisionLog.open>[1] = {}, at = path): DecisionLog {
  const log = DecisionLog.open(at, options);
  opened.push(log);
  return log;
}
beforeEach(() => {
  dir = tempDir("triage-log-");
  path = join(dir, "logs", "decisions.db");
});
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Rows as another process would see them: a separate connection to the same file. */
function countFromOutside(at = path): number {
  const db = new Database(at, { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM decisions").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("DecisionLog writing", () => {
  it("stores every field of a decision and reads it back typed", () => {
    const log = open();
    const d = makeDecision({
      requestId: "r1",
      label: "strong",
      modelLabel: "cheap",
      decidedBy: "fallback",
      lowConfidence: true,
      margin: 0.02,
      confidence: 0.51,
      stage: "static",
      latencyMs: 812.5,
      modelVersion: "2026-11-23T10:00:00Z-abc",
      scores: { cheap: 0.49, strong: 0.51 },
      fallback: { label: "strong", latencyMs: 800 },
    });
    log.log(d, "prove Fermat's little theorem", { tenant: "acme", feature: "chat" });
    log.log(makeDecision({ requestId: "r2", fallback: { label: null, latencyMs: 1500, error: "timeout after 1500 ms" } }), "hi");
    expect(log.flush()).toBe(2);
    const [row, row2] = log.query();
    expect(row).toMatchObject({
      requestId: "r1",
      modelVersion: "2026-11-23T10:00:00Z-abc",
      text: "prove Fermat's little theorem",
      textHash: sha256("prove Fermat's little theorem"),
      label: "strong",
      modelLabel: "cheap",
      confidence: 0.51,
      margin: 0.02,
      scores: { cheap: 0.49, strong: 0.51 },
      decidedBy: "fallback",
      stage: "static",
      lowConfidence: true,
      fallbackUsed: true,
      fallbackLabel: "strong",
      fallbackError: null,
      fallbackLatencyMs: 800,
      latencyMs: 812.5,
      tags: { tenant: "acme", feature: "chat" },
      feedback: [],
    } satisfies Partial<LoggedDecision>);
    expect(row.ts).toBeGreaterThan(Date.now() - 60_000);
    expect(row2).toMatchObject({ fallbackUsed: true, fallbackLabel: null, fallbackError: "timeout after 1500 ms", tags: null });
  });

  it("uses WAL and records the schema version", () => {
    open().close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const versions = Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 }));
    expect(db.prepare("SELECT version FROM schema_version ORDER BY version").all()).toEqual(versions);
    db.close();
    open().close(); // reopening applies nothing twice
    const again = new Database(path, { readonly: true });
    expect(again.prepare("SELECT COUNT(*) AS n FROM schema_version").get()).toEqual({ n: LATEST_SCHEMA_VERSION });
    again.close();
  });

  it("only queues in log(); an unref'd timer writes the batch shortly after", async () => {
    const log = open({ flushIntervalMs: 20 });
    log.log(makeDecision(), "a");
    log.log(makeDecision(), "b");
    expect(log.pendingCount).toBe(2);
    expect(countFromOutside()).toBe(0);
    await vi.waitFor(() => expect(countFromOutside()).toBe(2), { timeout: 5000, interval: 10 });
    expect(log.pendingCount).toBe(0);
  });

  it("writes a full batch on the next event-loop turn, without waiting for the timer", async () => {
    const log = open({ batchSize: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) log.log(makeDecision(), `q${i}`);
    expect(countFromOutside()).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(countFromOutside()).toBe(10);
    expect(log.counters).toMatchObject({ written: 10, flushes: 1 });
  });

  it("writes a big batch in slices of 64 rows, one per event-loop turn, so requests can run between them", async () => {
    const log = open({ batchSize: 200, flushIntervalMs: 60_000 });
    for (let i = 0; i < 200; i++) log.log(makeDecision({ requestId: `s${i}` }), `q${i}`);
    const seen: number[] = [];
    for (let turn = 0; turn < 4; turn++) {
      await new Promise((r) => setImmediate(r));
      seen.push(countFromOutside());
    }
    expect(seen).toEqual([64, 128, 192, 192]); // the last 8 wait for the timer, like any short batch
    expect(log.pendingCount).toBe(8);
    expect(log.flush()).toBe(8); // an explicit flush writes everything at once
    expect(log.query({ limit: 3 }).map((d) => d.requestId)).toEqual(["s0", "s1", "s2"]);
    expect(log.counters).toMatchObject({ written: 200, flushes: 4 });
  });

  it("writes synchronously once maxPending rows are queued (memory stays bounded)", () => {
    const log = open({ batchSize: 1000, maxPending: 5, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) log.log(makeDecision(), `q${i}`);
    expect(log.pendingCount).toBe(0);
    expect(countFromOutside()).toBe(5);
  });

  it("close() flushes what is queued; log() after close is an error", () => {
    const log = DecisionLog.open(path, { flushIntervalMs: 60_000 });
    log.log(makeDecision({ requestId: "last" }), "x");
    log.close();
    log.close(); // idempotent
    expect(countFromOutside()).toBe(1);
    expect(() => log.log(makeDecision(), "y")).toThrow(/closed/);
  });

  it("keeps the text, only its hash, or nothing, per text mode", () => {
    for (const textMode of ["store", "hash", "redact"] as const) {
      const at = join(dir, `${textMode}.db`);
      const log = open({ textMode }, at);
      log.log(makeDecision({ requestId: textMode }), "my secret question");
      const [row] = log.query();
      expect([textMode, row.text, row.textHash]).toEqual([
        textMode,
        textMode === "store" ? "my secret question" : null,
        textMode === "redact" ? null : sha256("my secret question"),
      ]);
      log.close();
      expect(readFileSync(at).includes(Buffer.from("my secret question"))).toBe(textMode === "store");
    }
  });

  it("skips a duplicate request id without losing the rest of the batch", () => {
    const log = open();
    log.log(makeDecision({ requestId: "dup" }), "first");
    log.log(makeDecision({ requestId: "dup" }), "second");
    log.log(makeDecision({ requestId: "other" }), "third");
    log.flush();
    expect(log.query().map((r) => [r.requestId, r.text])).toEqual([
      ["dup", "first"],
      ["other", "third"],
    ]);
    expect(log.counters).toMatchObject({ written: 2, duplicates: 1 });
  });

  it("drops a malformed decision, reports it, and stores the others", () => {
    const errors: Error[] = [];
    const log = open({ onError: (e) => errors.push(e) });
    const broken = makeDecision({ requestId: "broken" });
    (broken as { label: unknown }).label = null; // what a bug upstream could produce
    log.log(makeDecision({ requestId: "ok1" }), "a");
    log.log(broken, "b");
    log.log(makeDecision({ requestId: "ok2" }), "c");
    log.flush();
    expect(log.query().map((r) => r.requestId)).toEqual(["ok1", "ok2"]);
    expect(log.counters.dropped).toBe(1);
    expect(errors[0].message).toMatch(/request broken not stored/);
  });

  it("drops decisions that cannot be converted or bound, instead of blocking every later flush", () => {
    const errors: Error[] = [];
    const log = open({ onError: (e) => errors.push(e) });
    log.log(makeDecision({ requestId: "no-text" }), undefined as unknown as string);
    log.log(makeDecision({ requestId: "object-confidence", confidence: {} as unknown as number }), "x");
    log.log(makeDecision({ requestId: "fine" }), "y");
    log.flush();
    expect(log.query().map((r) => r.requestId)).toEqual(["fine"]);
    expect(errors.map((e) => e.message.split(":")[1].trim())).toEqual(["request no-text not stored", "request object-confidence not stored"]);
  });

  it("keeps the batch queued when the database is busy, and writes it once the lock is gone", () => {
    const log = open({ busyTimeoutMs: 0, flushIntervalMs: 60_000 });
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE"); // another writer holds the write lock
    log.log(makeDecision({ requestId: "w1" }), "a");
    log.log(makeDecision({ requestId: "w2" }), "b");
    expect(() => log.flush()).toThrow(/writing 2 decisions failed: database is locked/);
    expect(log.pendingCount).toBe(2);
    other.exec("ROLLBACK");
    other.close();
    expect(log.flush()).toBe(2);
    expect(log.query().map((r) => r.requestId)).toEqual(["w1", "w2"]);
  });

  it("never throws from log() while the database is locked; drops and reports what does not fit the queue", () => {
    const errors: Error[] = [];
    const log = open({ busyTimeoutMs: 0, maxPending: 3, batchSize: 100, flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    for (let i = 0; i < 6; i++) log.log(makeDecision({ requestId: `k${i}` }), `q${i}`);
    expect(log.pendingCount).toBe(3);
    expect(log.counters.dropped).toBe(3);
    expect(errors.some((e) => /database is locked/.test(e.message))).toBe(true);
    expect(errors.filter((e) => /not logged: the queue is full/.test(e.message))).toHaveLength(3);
    other.exec("ROLLBACK");
    other.close();
    log.flush();
    expect(log.query().map((r) => r.requestId)).toEqual(["k0", "k1", "k2"]);
    expect(log.counters.written).toBe(3);
  });

  it("rejects bad options with the field name", () => {
    expect(() => DecisionLog.open(path, { textMode: "plain" as "store" })).toThrow(/textMode/);
    expect(() => DecisionLog.open(path, { batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe("DecisionLog feedback and queries", () => {
  function seeded(): DecisionLog {
    const log = open();
    const t0 = 1_700_000_000_000;
    const rows: Array<[string, string, boolean, boolean, number]> = [
      ["a", "cheap", false, false, 1],
      ["b", "cheap", true, true, 2],
      ["c", "strong", true, false, 3],
      ["d", "strong", false, false, 4],
      ["e", "cheap", false, false, 5],
    ];
    const spy = vi.spyOn(Date, "now");
    for (const [id, label, low, fb, minute] of rows) {
      spy.mockReturnValue(t0 + minute * 60_000);
      log.log(makeDecision({ requestId: id, label, lowConfidence: low, ...(fb ? { fallback: { label, latencyMs: 300 } } : {}) }), `text ${id}`);
    }
    spy.mockRestore();
    log.flush();
    return log;
  }

  it("records feedback of every kind and returns it with the decision", () => {
    const log = seeded();
    log.feedback("b", { kind: "label", humanLabel: "strong", note: "needs reasoning" });
    log.feedback("b", { kind: "thumbs", thumbs: -1 });
    log.feedback("c", { kind: "escalated", finalModel: "gpt-big", tokensIn: 100, tokensOut: 50 });
    log.feedback("d", { kind: "outcome", costUsd: 0.01 });
    const [b] = log.query({ requestId: "b" });
    expect(b.feedback.map((f) => [f.kind, f.humanLabel, f.thumbs, f.note])).toEqual([
      ["label", "strong", null, "needs reasoning"],
      ["thumbs", null, -1, null],
    ]);
    expect(log.query({ requestId: "c" })[0].feedback[0]).toMatchObject({ finalModel: "gpt-big", tokensIn: 100, tokensOut: 50, costUsd: null });
  });

  it("flushes queued decisions before recording feedback on them", () => {
    const log = open({ flushIntervalMs: 60_000 });
    log.log(makeDecision({ requestId: "fresh" }), "just routed");
    log.feedback("fresh", { kind: "thumbs", thumbs: 1 });
    expect(log.query({ hasFeedback: true }).map((r) => r.requestId)).toEqual(["fresh"]);
  });

  it("queues feedback behind its decision: no write until the batch, then both in one transaction, in order", () => {
    const log = open({ flushIntervalMs: 60_000 });
    log.log(makeDecision({ requestId: "queued" }), "still in the queue");
    log.queueFeedback("queued", { kind: "outcome", finalModel: "gpt-small", tokensIn: 12, costUsd: 0.001 });
    log.queueFeedback("queued", { kind: "score", score: 1 });
    expect(log.pendingCount).toBe(3);
    expect(countFromOutside()).toBe(0); // nothing written yet: not even the feedback flushed the queue
    expect(log.flush()).toBe(3);
    const [row] = log.query({ requestId: "queued" });
    expect(row.feedback.map((f) => [f.kind, f.finalModel, f.tokensIn, f.costUsd, f.score])).toEqual([
      ["outcome", "gpt-small", 12, 0.001, null],
      ["score", null, null, null, 1],
    ]);
    expect(log.counters).toMatchObject({ written: 1, dropped: 0, flushes: 1 });
  });

  it("queued feedback: invalid input throws at once, an unknown request id is reported and the batch still written", () => {
    const errors: Error[] = [];
    const log = open({ flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    expect(() => log.queueFeedback("x", { kind: "score" })).toThrow(/feedback for x: .*score/);
    log.queueFeedback("nobody", { kind: "outcome", costUsd: 0.5 });
    log.log(makeDecision({ requestId: "known" }), "text");
    log.queueFeedback("known", { kind: "thumbs", thumbs: 1 });
    log.flush();
    expect(errors.map((e) => e.message)).toEqual(["decision log: feedback (outcome) for request nobody not stored: no decision with that id"]);
    expect(log.query({ hasFeedback: true }).map((r) => [r.requestId, r.feedback.length])).toEqual([["known", 1]]);
    expect(log.counters).toMatchObject({ written: 1, dropped: 1 });
  });

  it("strict: queued feedback is committed before queueFeedback returns", () => {
    const log = open({ durability: "strict" });
    log.log(makeDecision({ requestId: "s" }), "text");
    log.queueFeedback("s", { kind: "escalated", finalModel: "gpt-big" });
    expect(log.pendingCount).toBe(0);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT kind, final_model FROM feedback").all()).toEqual([{ kind: "escalated", final_model: "gpt-big" }]);
    db.close();
  });

  it("refuses feedback for an unknown request id or with missing fields", () => {
    const log = seeded();
    expect(() => log.feedback("nope", { kind: "thumbs", thumbs: 1 })).toThrow(/unknown request id "nope"/);
    expect(() => log.feedback("a", { kind: "label" })).toThrow(/humanLabel/);
    expect(() => log.feedback("a", { kind: "thumbs", thumbs: 0 as 1 })).toThrow(/thumbs/);
    expect(() => log.feedback("a", { kind: "outcome", tokensIn: -3 })).toThrow(/tokensIn/);
    expect(log.query({ hasFeedback: true })).toEqual([]);
  });

  it("deletes one feedback row by the id feedback() returned, and names a missing one", () => {
    const log = seeded();
    const keep = log.feedback("b", { kind: "thumbs", thumbs: 1 });
    const undo = log.feedback("b", { kind: "label", humanLabel: "strong" });
    log.deleteFeedback(undo);
    expect(log.query({ requestId: "b" })[0].feedback.map((f) => [f.id, f.kind])).toEqual([[keep, "thumbs"]]);
    expect(() => log.deleteFeedback(undo)).toThrow(`${path}: feedback ${undo} not found, nothing deleted`);
    expect(log.count({ hasFeedback: true })).toBe(1);
    log.close();
    const reader = open({ readonly: true });
    expect(() => reader.deleteFeedback(keep)).toThrow("was opened read-only");
  });

  it("filters by time, label, low confidence, fallback, feedback; limits and orders", () => {
    const log = seeded();
    log.feedback("c", { kind: "escalated" });
    log.feedback("e", { kind: "thumbs", thumbs: 1 });
    const ids = (rows: LoggedDecision[]) => rows.map((r) => r.requestId);
    const t0 = 1_700_000_000_000;
    expect(ids(log.query({ since: t0 + 2 * 60_000, until: t0 + 4 * 60_000 }))).toEqual(["b", "c"]);
    expect(ids(log.query({ label: "strong" }))).toEqual(["c", "d"]);
    expect(ids(log.query({ lowConfidence: true }))).toEqual(["b", "c"]);
    expect(ids(log.query({ fallback: true }))).toEqual(["b"]);
    expect(ids(log.query({ fallback: false, label: "cheap" }))).toEqual(["a", "e"]);
    expect(ids(log.query({ hasFeedback: true }))).toEqual(["c", "e"]);
    expect(ids(log.query({ hasFeedback: false }))).toEqual(["a", "b", "d"]);
    expect(ids(log.query({ feedbackKind: "escalated" }))).toEqual(["c"]);
    expect(ids(log.query({ limit: 2, order: "desc" }))).toEqual(["e", "d"]);
    expect(log.count({ label: "cheap" })).toBe(3);
    expect(() => log.query({ limit: -1 })).toThrow(/limit/);
  });

  it("exports JSON lines and CSV that parse back to the same rows", async () => {
    const log = open();
    const tricky = 'a "quoted", multi-line\nquery, with commas';
    log.log(makeDecision({ requestId: "x1" }), tricky, { user: "u,1" });
    log.log(makeDecision({ requestId: "x2", label: "strong" }), "plain");
    log.feedback("x1", { kind: "label", humanLabel: "strong" });

    const collect = async (format: "jsonl" | "csv", filters = {}) => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on("data", (c: Buffer) => chunks.push(c));
      const n = await log.export(filters, format, out);
      out.end();
      return { n, text: Buffer.concat(chunks).toString("utf8") };
    };

    const jsonl = await collect("jsonl");
    expect(jsonl.n).toBe(2);
    const parsed = jsonl.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as LoggedDecision);
    expect(parsed).toEqual(log.query());

    const csv = await collect("csv", { label: "cheap" });
    expect(csv.n).toBe(1);
    const records = parseCsv(csv.text, { columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ request_id: "x1", text: tricky, label: "cheap", low_confidence: "false", fallback_label: "" });
    expect(JSON.parse(records[0].tags)).toEqual({ user: "u,1" });
    expect(JSON.parse(records[0].feedback)[0]).toMatchObject({ kind: "label", humanLabel: "strong" });
  });

  it("exports text that a spreadsheet would run as a formula with a leading quote, numbers untouched", async () => {
    const log = open();
    log.log(makeDecision({ requestId: "f1", margin: -0.5 }), '=HYPERLINK("http://evil.example","click")');
    log.log(makeDecision({ requestId: "f2" }), "@SUM(A1:A2)");
    log.log(makeDecision({ requestId: "f3" }), "what is 2+2?");
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    await log.export({}, "csv", out);
    out.end();
    const records = parseCsv(Buffer.concat(chunks).toString("utf8"), { columns: true }) as Array<Record<string, string>>;
    expect(records.map((r) => r.text)).toEqual(['\'=HYPERLINK("http://evil.example","click")', "'@SUM(A1:A2)", "what is 2+2?"]);
    expect(records[0].margin).toBe("-0.5");
  });

  it("reads a big log page by page with rows()", () => {
    const log = open();
    for (let i = 0; i < 25; i++) log.log(makeDecision({ requestId: `p${i}`, label: i % 2 ? "strong" : "cheap" }), `q${i}`);
    const ids = [...log.rows({ label: "strong" }, 4)].map((r) => r.requestId);
    expect(ids).toEqual(Array.from({ length: 12 }, (_, k) => `p${2 * k + 1}`));
    expect([...log.rows({ order: "desc", limit: 3 }, 2)].map((r) => r.requestId)).toEqual(["p24", "p23", "p22"]);
  });

  it("exports more rows than one page, in order", async () => {
    const log = open();
    for (let i = 0; i < 2500; i++) log.log(makeDecision({ requestId: `r${i}` }), `q${i}`);
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    expect(await log.export({ limit: 2100 }, "jsonl", out)).toBe(2100);
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(2100);
    expect((JSON.parse(lines[2099]) as LoggedDecision).requestId).toBe("r2099");
  });
});

describe("DecisionLog stats", () => {
  it("reports distribution, rates, latency percentiles, cost and savings", () => {
    const log = open();
    // 4 cheap decisions (latency 1..4 ms), 1 strong (latency 10 ms)
    for (let i = 1; i <= 4; i++) log.log(makeDecision({ requestId: `c${i}`, label: "cheap", latencyMs: i }), "q");
    log.log(
      makeDecision({
        requestId: "s1",
        label: "strong",
        modelLabel: "cheap",
        latencyMs: 10,
        lowConfidence: true,
        fallback: { label: "strong", latencyMs: 400 },
      }),
      "q",
    );
    log.log(makeDecision({ requestId: "c5", label: "cheap", latencyMs: 5, lowConfidence: true, fallback: { label: null, latencyMs: 1500, error: "timeout" } }), "q");
    // c1: answered by the cheap tier, 1000 in / 500 out tokens, priced by table
    log.feedback("c1", { kind: "outcome", tokensIn: 1000, tokensOut: 500 });
    // c2: cheap call was not good enough; escalated to the strong model (2 calls)
    log.feedback("c2", { kind: "outcome", tokensIn: 1000, tokensOut: 500 });
    log.feedback("c2", { kind: "escalated", finalModel: "big-model", tokensIn: 1000, tokensOut: 400 });
    // s1: cost known directly, no tokens -> counted in the total, not in the savings comparison
    log.feedback("s1", { kind: "outcome", costUsd: 0.05 });
    log.feedback("c3", { kind: "thumbs", thumbs: 1 });

    const prices = { cheap: { input: 1, output: 2 }, strong: { input: 10, output: 30 }, "big-model": { input: 10, output: 30 } };
    const s = log.stats({ prices });
    expect(s.count).toBe(6);
    expect(s.labels.cheap).toMatchObject({ count: 5, share: 5 / 6, latencyMs: { p50: 3, p95: 5 } });
    expect(s.labels.strong).toMatchObject({ count: 1, latencyMs: { p50: 10, p95: 10 } });
    expect(s.lowConfidenceRate).toBeCloseTo(2 / 6);
    expect(s.fallbackRate).toBeCloseTo(2 / 6);
    expect(s.fallbackAgreement).toBe(0); // s1: the LLM said strong, the model said cheap
    expect(s.fallbackFailures).toBe(1);
    expect(s.escalationRate).toBeCloseTo(1 / 6);
    expect(s.feedback).toEqual({ label: 0, thumbs: 1, escalated: 1, outcome: 3, score: 0 });

    const cheapCall = (1000 * 1 + 500 * 2) / 1e6; // 0.002
    const bigCall = (1000 * 10 + 400 * 30) / 1e6; // 0.022
    expect(s.cost.requests).toBe(3);
    expect(s.cost.totalUsd).toBeCloseTo(cheapCall * 2 + bigCall + 0.05, 12);
    expect(s.cost.unpricedCalls).toBe(0);
    const baseline = s.cost.baseline;
    expect(baseline?.label).toBe("strong");
    expect(baseline?.requests).toBe(2); // c1, c2 (s1 has no tokens)
    expect(baseline?.actualUsd).toBeCloseTo(cheapCall * 2 + bigCall, 12);
    const expectedBaseline = (1000 * 10 + 500 * 30) / 1e6 + (1000 * 10 + 400 * 30) / 1e6;
    expect(baseline?.baselineUsd).toBeCloseTo(expectedBaseline, 12);
    expect(baseline?.savingsUsd).toBeCloseTo(expectedBaseline - (cheapCall * 2 + bigCall), 12);
  });

  it("counts unpriced calls and has no baseline without a price table", () => {
    const log = open();
    log.log(makeDecision({ requestId: "a" }), "q");
    log.feedback("a", { kind: "outcome", tokensIn: 10, tokensOut: 10 });
    const s = log.stats();
    expect(s.cost).toEqual({ requests: 0, totalUsd: 0, unpricedCalls: 1, baseline: null });
  });

  it("restricts stats to a time window", () => {
    const log = open();
    const spy = vi.spyOn(Date, "now").mockReturnValue(1000);
    log.log(makeDecision({ label: "cheap" }), "old");
    spy.mockReturnValue(5000);
    log.log(makeDecision({ label: "strong" }), "new");
    spy.mockRestore();
    expect(log.stats({ since: 2000 })).toMatchObject({ count: 1, labels: { strong: { count: 1 } } });
    expect(log.stats({ since: 99_999_999 })).toMatchObject({ count: 0, fallbackRate: null, latencyMs: { p50: null } });
  });
});

describe("DecisionLog retention", () => {
  it("prunes by age and by row count, taking feedback along", () => {
    const log = open();
    const spy = vi.spyOn(Date, "now");
    for (let i = 0; i < 10; i++) {
      spy.mockReturnValue(1_000_000 + i * 1000);
      log.log(makeDecision({ requestId: `r${i}` }), `q${i}`);
    }
    spy.mockRestore();
    log.feedback("r0", { kind: "thumbs", thumbs: 1 });
    log.feedback("r9", { kind: "thumbs", thumbs: 1 });
    // now = 1_010_000: rows older than 5 s are r0..r4 (ts < 1_005_000)
    expect(log.prune({ olderThanMs: 5000, now: 1_010_000 })).toBe(5);
    expect(log.query().map((r) => r.requestId)).toEqual(["r5", "r6", "r7", "r8", "r9"]);
    expect(log.prune({ maxRows: 2 })).toBe(3);
    expect(log.query().map((r) => r.requestId)).toEqual(["r8", "r9"]);
    expect(log.prune({ maxRows: 5 })).toBe(0);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT request_id FROM feedback").all()).toEqual([{ request_id: "r9" }]);
    db.close();
    expect(() => log.prune({ maxRows: -1 })).toThrow(/maxRows/);
  });
});

describe("DecisionLog refuses files that are not its own", () => {
  function untouched(file: string, attempt: () => void, message: RegExp) {
    const before = readFileSync(file);
    expect(attempt).toThrow(message);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  }

  it("a file that is not SQLite at all", () => {
    const file = join(dir, "notes.txt");
    writeFileSync(file, "these are my notes, not a database\n".repeat(200));
    untouched(file, () => DecisionLog.open(file), /notes\.txt is not a SQLite database/);
  });

  it("another application's SQLite database", () => {
    const file = join(dir, "other.db");
    const db = new Database(file);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ann')");
    db.close();
    untouched(file, () => DecisionLog.open(file), /not a triage decision log \(its tables: users\)/);
  });

  it("a decision log written by a newer triage", () => {
    open().close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)").run(LATEST_SCHEMA_VERSION + 1, 0, "future");
    db.pragma("journal_mode = DELETE"); // fold the WAL in so the file alone is the database
    db.close();
    untouched(path, () => DecisionLog.open(path), new RegExp(`schema version ${LATEST_SCHEMA_VERSION + 1}, newer than`));
  });

  it("read-only open of a missing file is an error, not a new file", () => {
    expect(() => DecisionLog.open(join(dir, "missing.db"), { readonly: true })).toThrow(/no decision log there/);
    expect(existsSync(join(dir, "missing.db"))).toBe(false);
  });

  it("read-only open reads but refuses writes", () => {
    const w = open();
    w.log(makeDecision({ requestId: "ro" }), "x");
    w.flush();
    const r = open({ readonly: true });
    expect(r.query().map((d) => d.requestId)).toEqual(["ro"]);
    expect(() => r.log(makeDecision(), "y")).toThrow(/read-only/);
    expect(() => r.feedback("ro", { kind: "thumbs", thumbs: 1 })).toThrow(/read-only/);
  });
});
