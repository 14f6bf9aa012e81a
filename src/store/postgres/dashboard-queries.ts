/**
 * @module
 * The dashboard's reads (`DashboardLogReader`) on a PostgreSQL decision log: the SQLite reader's queries
 * and page walk, on a small pool of its own whose sessions are read-only (default_transaction_read_only),
 * so nothing here can change the log, and MVCC lets it read while decisions are written without
 * blocking the writer. Statements are bounded by a statement timeout. Several writers (workers,
 * replicas) can commit decisions out of id order, so it also answers the recent-id checks the facts
 * make to find rows that committed after later ones were read.
 */
import pg from "pg";
import { TriageError } from "../../common/errors.js";
import {
  checkPageLimit,
  pageFilter,
  SCAN_CHUNK,
  type CallFact,
  type DashboardLogReader,
  type DecisionFact,
  type DecisionPage,
  type DecisionPageQuery,
  type RecentLabel,
} from "../dashboard-queries.js";
import { redactUrl } from "../location.js";
import { fromRow, type DecisionRow } from "../rows.js";
import type { LoggedDecision } from "../types.js";
import { inspectPgLog } from "./schema.js";
import { checkout, numbered, pgDecisionColumns, types } from "./sql.js";

/** Two connections: a page or a chunk of the facts build at a time, and a decision's page beside it. */
const POOL_SIZE = 2;
const CONNECT_TIMEOUT_MS = 5000;
/** A statement that runs longer is cancelled (the page walk's statements take milliseconds). */
const STATEMENT_TIMEOUT_MS = 30_000;

const FACT_COLUMNS = "id, ts, label, model_label, stage, decided_by, low_confidence, fallback_used, (fallback_label IS NOT NULL)::int, latency_ms, margin, model_version, tags";
const CALL_COLUMNS = "f.id, d.id, f.kind, d.label, f.final_model, f.tokens_in, f.tokens_out, f.cost_usd";
const CALL_KINDS = "(f.kind = 'escalated' OR f.cost_usd IS NOT NULL OR f.tokens_in IS NOT NULL OR f.tokens_out IS NOT NULL)";

export class PgDashboardReader implements DashboardLogReader {
  readonly kind = "postgres";
  private readonly columns: string;

  private constructor(
    /** The URL without its password. */
    readonly path: string,
    private readonly pool: pg.Pool,
    schemaVersion: number,
  ) {
    this.columns = pgDecisionColumns(schemaVersion);
  }

  /** Connects read-only to the log at `url`; an unreachable server or a database without a log is a one-line TriageError. */
  static async open(url: string, onError: (error: Error) => void = () => {}): Promise<PgDashboardReader> {
    const where = redactUrl(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      allowExitOnIdle: true,
      application_name: "triage dashboard",
      options: `-c default_transaction_read_only=on -c statement_timeout=${STATEMENT_TIMEOUT_MS}`,
      types,
    });
    // A connection the server drops must not end the process; the next query reconnects.
    pool.on("error", (err) => onError(new TriageError(`dashboard reading ${where}: ${err.message}`)));
    try {
      const client = await checkout(pool).catch((err: Error) => {
        throw new TriageError(`decision log ${where}: cannot connect: ${err.message || (err as { code?: string }).code || String(err)}`);
      });
      let version: number;
      try {
        version = await inspectPgLog(client, where);
      } finally {
        client.release();
      }
      if (version === 0) throw new TriageError(`${where}: no decision log there (the dashboard reads an existing log; \`triage serve --log-db\` writes one)`);
      return new PgDashboardReader(where, pool, version);
    } catch (err) {
      await pool.end().catch(() => {});
      if (err instanceof TriageError) throw err;
      throw new TriageError(`decision log ${where}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async all<T>(sql: string, values: unknown[]): Promise<T[]> {
    return (await this.pool.query<T & pg.QueryResultRow>(numbered(sql), values)).rows;
  }

  private async tuples<T>(sql: string, values: unknown[]): Promise<T[]> {
    return (await this.pool.query({ text: numbered(sql), values, rowMode: "array" })).rows as T[];
  }

  async idRange(): Promise<{ min: number | null; max: number | null }> {
    // PostgreSQL answers both from the primary key in one statement.
    const [r] = await this.all<{ min: number | null; max: number | null }>("SELECT MIN(id) AS min, MAX(id) AS max FROM decisions", []);
    return r;
  }

  async identity(): Promise<string> {
    const [r] = await this.all<{ at: number }>("SELECT applied_at AS at FROM schema_version WHERE version = 1", []);
    return `created ${r?.at ?? "?"}`;
  }

  async tsOf(id: number): Promise<number | undefined> {
    return (await this.all<{ ts: number }>("SELECT ts FROM decisions WHERE id = ?", [id]))[0]?.ts;
  }

  decisionFacts(afterId: number, limit: number): Promise<DecisionFact[]> {
    return this.tuples(`SELECT ${FACT_COLUMNS} FROM decisions WHERE id > ? ORDER BY id LIMIT ?`, [afterId, limit]);
  }

  decisionFactsBetween(lo: number, hi: number): Promise<DecisionFact[]> {
    return this.tuples(`SELECT ${FACT_COLUMNS} FROM decisions WHERE id >= ? AND id < ? ORDER BY id`, [lo, hi]);
  }

  async countBetween(lo: number, hi: number): Promise<number> {
    return (await this.all<{ n: number }>("SELECT COUNT(*) AS n FROM decisions WHERE id > ? AND id <= ?", [lo, hi]))[0].n;
  }

  async idsBetween(lo: number, hi: number): Promise<number[]> {
    return (await this.all<{ id: number }>("SELECT id FROM decisions WHERE id > ? AND id <= ? ORDER BY id", [lo, hi])).map((r) => r.id);
  }

  decisionFactsOf(ids: number[]): Promise<DecisionFact[]> {
    return this.tuples(`SELECT ${FACT_COLUMNS} FROM decisions WHERE id = ANY(?::bigint[]) ORDER BY id`, [ids]);
  }

  /**
   * Virtual transaction ids of the sessions holding a write lock on decisions (pg_locks, readable by any
   * role). A writer takes that lock before its INSERT numbers a row and keeps it to its commit, so a row
   * numbered but not yet committed always has its transaction listed here, xid or not.
   */
  async openWriters(): Promise<string[]> {
    const rows = await this.all<{ v: string }>(
      "SELECT DISTINCT virtualtransaction AS v FROM pg_locks WHERE locktype = 'relation' AND relation = to_regclass('decisions') AND mode = 'RowExclusiveLock'",
      [],
    );
    return rows.map((r) => r.v);
  }

  async maxFeedbackId(): Promise<number> {
    return (await this.all<{ v: number | null }>("SELECT MAX(id) AS v FROM feedback", []))[0].v ?? 0;
  }

  /**
   * Each decision's feedback found through the feedback index, one decision at a time (LATERAL, with
   * OFFSET 0 so the planner keeps it that way). As a plain join the planner, pricing index reads as disk
   * reads, hashed the chunk's decisions and read the whole feedback table for every chunk until the table
   * grew large enough to tip it: 24 ms a chunk at 128,000 feedback rows, against 2.5 ms this way.
   */
  callFactsBetween(lo: number, hi: number, upTo: number): Promise<CallFact[]> {
    return this.tuples(
      `SELECT ${CALL_COLUMNS} FROM decisions d
       CROSS JOIN LATERAL (SELECT * FROM feedback f WHERE f.request_id = d.request_id AND f.id <= ? AND ${CALL_KINDS} OFFSET 0) f
       WHERE d.id >= ? AND d.id < ? ORDER BY f.id`,
      [upTo, lo, hi],
    );
  }

  callFacts(afterFeedbackId: number, limit: number): Promise<CallFact[]> {
    return this.tuples(
      `SELECT ${CALL_COLUMNS} FROM feedback f JOIN decisions d ON d.request_id = f.request_id
       WHERE f.id > ? AND ${CALL_KINDS} ORDER BY f.id LIMIT ?`,
      [afterFeedbackId, limit],
    );
  }

  async decision(requestId: string): Promise<LoggedDecision | undefined> {
    const [row] = await this.all<DecisionRow>(`SELECT ${this.columns} FROM decisions d WHERE d.request_id = ?`, [requestId]);
    return row ? fromRow(row) : undefined;
  }

  async newest(limit: number, since?: number): Promise<LoggedDecision[]> {
    const rows = await this.all<DecisionRow>(
      `SELECT ${this.columns} FROM decisions d ${since !== undefined ? "WHERE d.ts >= ?" : ""} ORDER BY d.id DESC LIMIT ?`,
      since !== undefined ? [since, limit] : [limit],
    );
    return rows.map(fromRow);
  }

  labelsSince(sinceTs: number, limit = 50): Promise<RecentLabel[]> {
    return this.all<RecentLabel>(`SELECT id, request_id AS "requestId", human_label AS label, ts, note FROM feedback WHERE kind = 'label' AND ts >= ? ORDER BY id DESC LIMIT ?`, [
      sinceTs,
      limit,
    ]);
  }

  /** The SQLite reader's page walk: the id range downwards in chunks, against the time budget. */
  async page(q: DecisionPageQuery): Promise<DecisionPage> {
    checkPageLimit(q.limit);
    const { min, max } = await this.idRange();
    if (min === null || max === null) return { rows: [], older: null, partial: false, scanned: 0 };
    const filter = pageFilter(q, "postgres");
    const floor = Math.max(min, q.since !== undefined ? ((await this.firstIdAtOrAfter(q.since)) ?? max + 1) : min);
    let cursor = Math.min(q.before ?? max + 1, q.until !== undefined ? ((await this.firstIdAtOrAfter(q.until)) ?? max + 1) : max + 1);
    const started = performance.now();
    const budget = q.budgetMs ?? 150;
    const rows: LoggedDecision[] = [];
    let scanned = 0;
    while (rows.length < q.limit && cursor > floor) {
      const lo = Math.max(floor, cursor - SCAN_CHUNK);
      const found = await this.all<DecisionRow>(`SELECT ${this.columns} FROM decisions d WHERE d.id < ? AND d.id >= ? ${filter.sql} ORDER BY d.id DESC LIMIT ?`, [
        cursor,
        lo,
        ...filter.params,
        q.limit - rows.length,
      ]);
      for (const r of found) rows.push(fromRow(r));
      const last = rows.length === q.limit ? rows[rows.length - 1].id : lo;
      scanned += cursor - last;
      cursor = last;
      if (rows.length < q.limit && performance.now() - started > budget) return { rows, older: cursor > floor ? cursor : null, partial: cursor > floor, scanned };
    }
    return { rows, older: cursor > floor ? cursor : null, partial: false, scanned };
  }

  private async firstIdAtOrAfter(ts: number): Promise<number | undefined> {
    return (await this.all<{ id: number }>("SELECT id FROM decisions WHERE ts >= ? ORDER BY ts LIMIT 1", [ts]))[0]?.id;
  }
}
