/**
 * A PostgreSQL log written by an earlier release: opened read-only it reads as it is; opened to write it
 * migrates in place to the latest schema and keeps every row and feedback, also when several servers
 * start on it at once. The SQLite file's counterpart is ../schema-migrations.test.ts.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION, type DecisionStore } from "../../../src/store/index.js";
import { PgDecisionLog } from "../../../src/store/postgres/log.js";
import { PG_MIGRATIONS } from "../../../src/store/postgres/schema.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { makeDecision } from "../make-decision.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

async function withClient<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await use(c);
  } finally {
    await c.end();
  }
}

/** A log as a release at schema `version` wrote it: two decisions, one with feedback (schema 1's columns only). */
async function writeLogAt(url: string, version: number): Promise<void> {
  await withClient(url, async (c) => {
    await c.query("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL, description TEXT NOT NULL)");
    for (const m of PG_MIGRATIONS.filter((m) => m.version <= version)) {
      await c.query(m.sql);
      await c.query("INSERT INTO schema_version VALUES ($1, 0, $2)", [m.version, m.description]);
    }
    const insert = `INSERT INTO decisions (ts, request_id, model_version, text, label, model_label, confidence, margin, scores, decided_by, stage, low_confidence, fallback_used, latency_ms)
      VALUES ($1, $2, 'v1', $3, 'cheap', 'cheap', 0.9, 0.5, '{"cheap":0.9}', 'model', 'full', 0, 0, 1.5)`;
    await c.query(insert, [1000, "old-1", "first"]);
    await c.query(insert, [2000, "old-2", "second"]);
    await c.query("INSERT INTO feedback (request_id, ts, kind, final_model, cost_usd) VALUES ('old-1', 1500, 'outcome', 'gpt-small', 0.002)");
  });
}

const versionsOf = (url: string) =>
  withClient(url, async (c) => (await c.query<{ version: number }>("SELECT version FROM schema_version ORDER BY version")).rows.map((r) => r.version));

const rowsOf = async (store: DecisionStore) => await store.query({ order: "asc" });

const dial = { quality: 0.9, rule: "tolerance" as const, setting: 0.04, from: "request" as const };
const outcome = { expectedQuality: 0.8, expectedCostUsd: 0.001, runnerUp: null, why: "cheap is the only model", dial, escalation: [] };

describe.skipIf(!bin && !process.env.CI)("a PostgreSQL log from an earlier release", () => {
  let server: TestPostgres;
  let n = 0;
  const freshDb = () => server.createDatabase(`m${++n}`);
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(() => server?.stop());

  const older = PG_MIGRATIONS.map((m) => m.version).filter((v) => v < LATEST_SCHEMA_VERSION);

  it.each(older)("schema %i: read-only, it reads as it is and is not migrated", async (version) => {
    const url = freshDb();
    await writeLogAt(url, version);
    const ro = await PgDecisionLog.open(url, { readonly: true });
    const rows = await rowsOf(ro);
    await ro.close();
    expect(rows.map((r) => [r.requestId, r.text, r.conversation, r.dial])).toEqual([
      ["old-1", "first", null, null],
      ["old-2", "second", null, null],
    ]);
    expect(rows[0].feedback).toMatchObject([{ kind: "outcome", finalModel: "gpt-small", costUsd: 0.002, score: null }]);
    expect(await versionsOf(url)).toEqual(older.filter((v) => v <= version));
  });

  it.each(older)("schema %i: migrates keeping every row and feedback, and new rows use every later column", async (version) => {
    const url = freshDb();
    await writeLogAt(url, version);
    const log = await PgDecisionLog.open(url, { durability: "strict" });
    await log.log(makeDecision({ requestId: "new-1", outcome, conversation: { id: "conv-1", sticky: true, routed: "strong" } }), "third");
    await log.feedback("old-1", { kind: "score", score: 0.5, finalModel: "gpt-small" });
    const rows = await rowsOf(log);
    await log.close();
    expect(rows.map((r) => [r.requestId, r.text, r.conversation, r.sticky, r.dial])).toEqual([
      ["old-1", "first", null, null, null],
      ["old-2", "second", null, null, null],
      ["new-1", "third", "conv-1", true, dial],
    ]);
    expect(rows[0].feedback).toMatchObject([
      { kind: "outcome", finalModel: "gpt-small", costUsd: 0.002, score: null },
      { kind: "score", finalModel: "gpt-small", score: 0.5 },
    ]);
    expect(await versionsOf(url)).toEqual(PG_MIGRATIONS.map((m) => m.version));
  });

  it("several servers opening one older log at once migrate it once, and all of them write", async () => {
    const url = freshDb();
    await writeLogAt(url, 2);
    const logs = await Promise.all([1, 2, 3, 4].map(() => PgDecisionLog.open(url, { durability: "strict" })));
    await Promise.all(logs.map((log, i) => log.log(makeDecision({ requestId: `new-${i}`, outcome }), `from server ${i}`)));
    const rows = await rowsOf(logs[0]);
    await Promise.all(logs.map((log) => log.close()));
    expect(rows.map((r) => r.requestId).sort()).toEqual(["new-0", "new-1", "new-2", "new-3", "old-1", "old-2"]);
    expect(await versionsOf(url)).toEqual(PG_MIGRATIONS.map((m) => m.version));
  });
});
