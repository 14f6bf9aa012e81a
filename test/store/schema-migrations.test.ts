// A log written by an earlier release migrates in place to the latest schema and keeps all it held.
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DecisionLog, LATEST_SCHEMA_VERSION } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/schema.js";
import { makeDecision } from "./make-decision.js";
import { tempDir } from "../helpers/temp.js";

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir("triage-migrate-");
  path = join(dir, "decisions.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A log as a release at schema `version` wrote it: two decisions, one with feedback. */
function writeLogAt(version: number): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL)");
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_version VALUES (?, 0, ?)").run(m.version, m.description);
  }
  db.pragma("application_id = 0x54524c47");
  const insert = db.prepare(
    `INSERT INTO decisions (ts, request_id, model_version, text, text_hash, label, model_label, confidence, margin, scores, decided_by, stage, low_confidence, fallback_used, latency_ms)
     VALUES (?, ?, 'v1', ?, NULL, 'cheap', 'cheap', 0.9, 0.5, '{"cheap":0.9}', 'model', 'full', 0, 0, 1.5)`,
  );
  insert.run(1000, "old-1", "first");
  insert.run(2000, "old-2", "second");
  db.prepare("INSERT INTO feedback (request_id, ts, kind, final_model, cost_usd) VALUES ('old-1', 1500, 'outcome', 'gpt-small', 0.002)").run();
  db.close();
}

function schemaVersion(): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number }).v;
  } finally {
    db.close();
  }
}

describe("a schema-2 log (before conversations and scores)", () => {
  it("migrates to the latest schema, keeps its rows and feedback, and logs a conversation on new rows", () => {
    writeLogAt(2);
    const log = DecisionLog.open(path);
    log.log(makeDecision({ requestId: "new-1", conversation: { id: "conv-1", sticky: true, routed: "strong" } }), "third");
    log.feedback("old-1", { kind: "score", score: 0.5, finalModel: "gpt-small" });
    const rows = log.query({ order: "asc" });
    log.close();
    expect(rows.map((r) => [r.requestId, r.text, r.conversation, r.sticky])).toEqual([
      ["old-1", "first", null, null],
      ["old-2", "second", null, null],
      ["new-1", "third", "conv-1", true],
    ]);
    expect(rows[0].feedback).toMatchObject([
      { id: 1, kind: "outcome", finalModel: "gpt-small", costUsd: 0.002, score: null },
      { kind: "score", finalModel: "gpt-small", score: 0.5 },
    ]);
    expect(schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
  });

  it("read-only, it is read as it is, without migrating it", () => {
    writeLogAt(2);
    const ro = DecisionLog.open(path, { readonly: true });
    expect(ro.query({ order: "asc" }).map((r) => [r.requestId, r.conversation, r.sticky])).toEqual([
      ["old-1", null, null],
      ["old-2", null, null],
    ]);
    ro.close();
    expect(schemaVersion()).toBe(2);
  });
});

describe("a schema-4 log (before the dial column)", () => {
  const dial = { quality: 0.9, rule: "tolerance" as const, setting: 0.04, from: "request" as const };
  const outcome = { expectedQuality: 0.8, expectedCostUsd: 0.001, runnerUp: null, why: "cheap is the only model", dial, escalation: [] };

  it("migrates keeping every row and feedback, adds the dial column, and logs an outcome decision's dial", () => {
    writeLogAt(4);
    const log = DecisionLog.open(path);
    log.log(makeDecision({ requestId: "new-1", outcome }), "third");
    log.log(makeDecision({ requestId: "new-2" }), "fourth");
    const rows = log.query({ order: "asc" });
    log.close();
    expect(rows.map((r) => [r.requestId, r.text, r.dial])).toEqual([
      ["old-1", "first", null],
      ["old-2", "second", null],
      ["new-1", "third", dial],
      ["new-2", "fourth", null],
    ]);
    expect(rows[0].feedback).toMatchObject([{ id: 1, kind: "outcome", finalModel: "gpt-small", costUsd: 0.002 }]);
    expect(schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    const db = new Database(path, { readonly: true });
    expect((db.prepare("SELECT name, type FROM pragma_table_info('decisions') WHERE name = 'dial'").all() as unknown[]).length).toBe(1);
    db.close();
  });

  it("read-only, its rows read with no dial, without migrating it", () => {
    writeLogAt(4);
    const ro = DecisionLog.open(path, { readonly: true });
    expect(ro.query({ order: "asc" }).map((r) => [r.requestId, r.dial])).toEqual([
      ["old-1", null],
      ["old-2", null],
    ]);
    ro.close();
    expect(schemaVersion()).toBe(4);
  });

  it("a dial column holding something that is not a dial reads as null, and the row is still read", () => {
    writeLogAt(4);
    DecisionLog.open(path).close();
    const db = new Database(path);
    const set = db.prepare("UPDATE decisions SET dial = ? WHERE request_id = ?");
    set.run("not json", "old-1");
    set.run(JSON.stringify({ ...dial, maxCost: 0.3 }), "old-2");
    db.close();
    const log = DecisionLog.open(path, { readonly: true });
    expect(log.query({ order: "asc" }).map((r) => [r.requestId, r.text, r.dial])).toEqual([
      ["old-1", "first", null],
      ["old-2", "second", null],
    ]);
    log.close();
  });
});
