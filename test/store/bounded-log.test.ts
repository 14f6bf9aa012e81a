// The decision log stays bounded: texts cut to a cap with the whole text's hash and length, well-formed
// UTF-8 on disk, old logs migrated in place, and a strict mode that commits inside log().
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../../src/common/hash.js";
import { MIGRATIONS } from "../../src/store/schema.js";
import { DecisionLog, LATEST_SCHEMA_VERSION } from "../../src/store/index.js";
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
  dir = tempDir("triage-bounded-");
  path = join(dir, "decisions.db");
});
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A column's stored bytes, read by another connection. */
function rawBytes(column: "text", requestId: string): Buffer {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT CAST(${column} AS BLOB) AS b FROM decisions WHERE request_id = ?`).get(requestId) as { b: Buffer }).b;
  } finally {
    db.close();
  }
}

describe("texts are stored cut to a cap, with the whole text's hash and length", () => {
  it("a 1 MB text is stored as its first 4,000 characters, with the hash and length of all of it", () => {
    const big = "0123456789abcdef".repeat(65_536); // 1 MiB of ASCII
    const log = open();
    log.log(makeDecision({ requestId: "big" }), big);
    log.close();
    const db = new Database(path, { readonly: true });
    const row = db.prepare("SELECT text, text_hash, text_length, length(CAST(text AS BLOB)) AS bytes FROM decisions").get();
    db.close();
    expect(row).toEqual({ text: big.slice(0, 4000), text_hash: sha256(big), text_length: big.length, bytes: 4000 });
    const [read] = open({ readonly: true }).query();
    expect(read).toMatchObject({ text: big.slice(0, 4000), textHash: sha256(big), textLength: 1_048_576 });
  });

  it("the cap is an option; hash mode keeps hash and length, redact keeps nothing", () => {
    const text = "x".repeat(50);
    for (const [textMode, expected] of [
      ["store", { text: "x".repeat(10), textHash: sha256(text), textLength: 50 }],
      ["hash", { text: null, textHash: sha256(text), textLength: 50 }],
      ["redact", { text: null, textHash: null, textLength: null }],
    ] as const) {
      const log = open({ textMode, maxTextChars: 10 }, join(dir, `${textMode}.db`));
      log.log(makeDecision(), text);
      log.log(makeDecision(), "short");
      const [row, short] = log.query();
      expect({ text: row.text, textHash: row.textHash, textLength: row.textLength }).toEqual(expected);
      expect(short.textLength).toBe(textMode === "redact" ? null : 5);
    }
  });

  it("never cuts a surrogate pair in half", () => {
    const log = open({ maxTextChars: 4 });
    log.log(makeDecision({ requestId: "emoji" }), "abc😀def"); // the emoji is code units 3 and 4
    expect(log.query()[0]).toMatchObject({ text: "abc", textLength: 8 });
  });

  it("stores a lone surrogate as valid UTF-8 (U+FFFD), hashing the text as received", () => {
    const text = "bad \ud800 half, ok 😀 and \udfff";
    const log = open();
    log.log(makeDecision({ requestId: "lone" }), text);
    log.flush();
    const bytes = rawBytes("text", "lone");
    const decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes); // throws on invalid UTF-8
    expect(decoded).toBe("bad \ufffd half, ok 😀 and \ufffd");
    expect(log.query()[0]).toMatchObject({ text: decoded, textHash: sha256(Buffer.from(decoded, "utf8")), textLength: text.length });
  });

  it("a lone surrogate at the cap is stored as valid UTF-8 too", () => {
    const log = open({ maxTextChars: 5 });
    log.log(makeDecision({ requestId: "cut" }), "abcd\udc00" + "e".repeat(10));
    log.flush();
    expect(new TextDecoder("utf-8", { fatal: true }).decode(rawBytes("text", "cut"))).toBe("abcd\ufffd");
  });
});

/** A log as the previous release (schema 1) wrote it, with two rows (one over today's cap). */
function writeSchema1Log(at: string, bigText: string): void {
  const db = new Database(at);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL)");
  db.exec(MIGRATIONS[0].sql);
  db.prepare("INSERT INTO schema_version VALUES (1, 0, ?)").run(MIGRATIONS[0].description);
  db.pragma("application_id = 0x54524c47");
  const insert = db.prepare(
    `INSERT INTO decisions (ts, request_id, model_version, text, text_hash, label, model_label, confidence, margin, scores, decided_by, stage, low_confidence, fallback_used, latency_ms)
     VALUES (?, ?, 'v1', ?, ?, 'cheap', 'cheap', 0.9, 0.5, '{"cheap":0.9}', 'model', 'full', 0, 0, 1.5)`,
  );
  insert.run(1000, "old-1", "an old question", sha256("an old question"));
  insert.run(2000, "old-2", bigText, sha256(bigText));
  db.prepare("INSERT INTO feedback (request_id, ts, kind, human_label) VALUES ('old-1', 1500, 'label', 'strong')").run();
  db.close();
}

describe("migration from the previous schema", () => {
  it("keeps every row, text and feedback; new rows get a length; reopening changes nothing", () => {
    const bigText = "y".repeat(10_000);
    writeSchema1Log(path, bigText);
    const log = open();
    log.log(makeDecision({ requestId: "new-1" }), "a new question");
    const rows = log.query();
    expect(rows.map((r) => [r.requestId, r.text, r.textHash, r.textLength])).toEqual([
      ["old-1", "an old question", sha256("an old question"), null],
      ["old-2", bigText, sha256(bigText), null], // stored before the cap: kept whole
      ["new-1", "a new question", sha256("a new question"), 14],
    ]);
    expect(rows[0].feedback).toMatchObject([{ kind: "label", humanLabel: "strong" }]);
    log.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT MAX(version) AS v FROM schema_version").get()).toEqual({ v: LATEST_SCHEMA_VERSION });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
    expect(open().count()).toBe(3);
  });

  it("a read-only open of a schema-1 log reads it without migrating it", () => {
    writeSchema1Log(path, "z");
    const ro = open({ readonly: true });
    expect(ro.query().map((r) => [r.requestId, r.textLength])).toEqual([
      ["old-1", null],
      ["old-2", null],
    ]);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT MAX(version) AS v FROM schema_version").get()).toEqual({ v: 1 });
    db.close();
  });
});

describe("durability", () => {
  function countFromOutside(): number {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM decisions").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  it("strict: the row is committed when log() returns, with no queue", () => {
    const log = open({ durability: "strict", flushIntervalMs: 600_000 });
    expect(log.durability).toBe("strict");
    log.log(makeDecision({ requestId: "s1" }), "first");
    expect(log.pendingCount).toBe(0);
    expect(countFromOutside()).toBe(1);
    log.log(makeDecision({ requestId: "s2" }), "x".repeat(5000));
    expect(countFromOutside()).toBe(2);
  });

  it("strict: a commit that fails throws from log(); the row stays queued and is written once the lock is gone", () => {
    const log = open({ durability: "strict", busyTimeoutMs: 0 });
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    expect(() => log.log(makeDecision({ requestId: "locked" }), "a")).toThrow(
      expect.objectContaining({ code: "E_LOG_NOT_COMMITTED", message: expect.stringMatching(/writing 1 decisions failed: database is locked/) }),
    );
    expect(log.pendingCount).toBe(1);
    other.exec("ROLLBACK");
    other.close();
    log.log(makeDecision({ requestId: "after" }), "b");
    expect(countFromOutside()).toBe(2);
  });

  it("strict: a malformed decision is reported, not thrown", () => {
    const errors: Error[] = [];
    const log = open({ durability: "strict", onError: (e) => errors.push(e) });
    log.log(makeDecision({ requestId: "bad", confidence: {} as unknown as number }), "x");
    expect(errors[0].message).toMatch(/request bad not stored/);
  });

  it("batched (default) queues; the old `durability: normal | full` still means sync", () => {
    const log = open({ flushIntervalMs: 600_000 });
    expect(log.durability).toBe("batched");
    log.log(makeDecision(), "q");
    expect(countFromOutside()).toBe(0);
    log.close();
    const full = open({ durability: "full" }, join(dir, "full.db"));
    expect(full.durability).toBe("batched");
    expect(() => DecisionLog.open(join(dir, "x.db"), { durability: "full", sync: "normal" })).toThrow(/sync: conflicts with durability "full"/);
    expect(() => DecisionLog.open(join(dir, "x.db"), { durability: "eventually" as "strict" })).toThrow(/durability/);
  });
});

describe("prune in steps", () => {
  it("deletes at most `limit` decisions per call, oldest first, by age then by count", () => {
    const log = open();
    for (let i = 0; i < 10; i++) log.log(makeDecision({ requestId: `r${i}` }), `q${i}`);
    log.flush();
    const db = new Database(path);
    db.prepare("UPDATE decisions SET ts = 1000 WHERE request_id IN ('r0', 'r1', 'r2')").run(); // three old ones
    db.close();
    const rules = { olderThanMs: 60_000, maxRows: 4 };
    expect(log.prune({ ...rules, limit: 2 })).toBe(2);
    expect(log.query().map((r) => r.requestId)[0]).toBe("r2");
    expect(log.prune({ ...rules, limit: 2 })).toBe(2); // r2 by age, then r3 by count
    expect(log.prune({ ...rules, limit: 2 })).toBe(2);
    expect(log.prune({ ...rules, limit: 2 })).toBe(0);
    expect(log.query().map((r) => r.requestId)).toEqual(["r6", "r7", "r8", "r9"]);
    expect(() => log.prune({ maxRows: 1, limit: 0 })).toThrow(/limit must be a positive integer/);
  });
});
