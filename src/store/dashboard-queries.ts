/**
 * @module
 * Read-only queries behind the dashboard, on a connection of their own, whichever database holds the log
 * (`DashboardLogReader`): here a read-only SQLite handle beside the writer (WAL lets it read committed
 * rows while decisions are being written), in postgres/dashboard-queries.ts a small read-only pool, so
 * nothing here can block, lock or change the log. Two kinds of reads:
 * - facts: narrow rows in id order, from a watermark or by id range (a build reads newest first), for the
 *   dashboard's in-memory aggregates;
 * - pages: the decisions table, scanned newest first in bounded id ranges against a time budget, so a
 *   search over millions of rows answers in bounded time and says where it stopped.
 */
import Database from "better-sqlite3";
import { TriageError } from "../common/errors.js";
import { decisionColumns, fromRow, type DecisionRow } from "./rows.js";
import { currentSchemaVersion, inspectExistingLog } from "./schema.js";
import type { Awaitable } from "./store.js";
import type { FeedbackKind, LoggedDecision } from "./types.js";

/** One decision as the aggregates need it: [id, ts, label, modelLabel, stage, decidedBy, lowConfidence, fallbackUsed, fallbackAnswered, latencyMs, margin, modelVersion, tags]. */
export type DecisionFact = [number, number, string, string, string, string, 0 | 1, 0 | 1, 0 | 1, number | null, number | null, string, string | null];

/** One feedback row that bears on cost or escalation: [feedbackId, decisionId, kind, label, finalModel, tokensIn, tokensOut, costUsd]. */
export type CallFact = [number, number, FeedbackKind, string, string | null, number | null, number | null, number | null];

export interface DecisionPageQuery {
  /** ms since epoch, inclusive / exclusive. */
  since?: number;
  until?: number;
  label?: string;
  stage?: string;
  decidedBy?: string;
  lowConfidence?: boolean;
  /** "any": some feedback; "none": none; a kind: feedback of that kind. */
  feedback?: "any" | "none" | FeedbackKind;
  /** A caller tag (x-triage-tags key, or "user") and its value. */
  tag?: { key: string; value: string };
  /** Text (substring), a request id prefix, or a text hash prefix. */
  search?: string;
  /** Only decisions with an id below this (the next, older page). */
  before?: number;
  /** Page size (1..500). */
  limit: number;
  /** Stop scanning after this long and say where (default 150 ms). */
  budgetMs?: number;
}

export interface DecisionPage {
  rows: LoggedDecision[];
  /** Cursor (`before`) for the next, older page; null when the scan reached the oldest matching row. */
  older: number | null;
  /** True when the time budget ended the scan before the page filled: `older` resumes it. */
  partial: boolean;
  /** Decisions scanned (ids covered) for this page. */
  scanned: number;
}

/** A human label as the review page lists it. */
export interface RecentLabel {
  id: number;
  requestId: string;
  label: string;
  ts: number;
  note: string | null;
}

/**
 * The dashboard's reads of a decision log, answered now (SQLite) or later (PostgreSQL): callers `await`
 * each one. Ids follow the order decisions were logged in, and so do their time stamps.
 */
export interface DashboardLogReader {
  readonly kind: "sqlite" | "postgres";
  /** Where the log is, safe to print: a file path, or a postgres:// URL without its password. */
  readonly path: string;
  close(): Awaitable<void>;
  /** Lowest and highest decision id (nulls for an empty log). */
  idRange(): Awaitable<{ min: number | null; max: number | null }>;
  /** What tells this log from another at the same place (when its schema was first created). */
  identity(): Awaitable<string>;
  /** The time stamp of one decision, or undefined when there is none with that id. */
  tsOf(id: number): Awaitable<number | undefined>;
  /** Decisions with id > afterId, oldest first, at most `limit`. */
  decisionFacts(afterId: number, limit: number): Awaitable<DecisionFact[]>;
  /** Decisions with lo <= id < hi, oldest first. */
  decisionFactsBetween(lo: number, hi: number): Awaitable<DecisionFact[]>;
  /**
   * Only where decisions can commit out of id order (PostgreSQL with several writers: a transaction
   * holding lower ids commits after one holding higher ids): how many decisions have lo < id <= hi ...
   */
  countBetween?(lo: number, hi: number): Awaitable<number>;
  /** ... and the ids among them, so that a copy read by id can find the ones it passed before they committed. */
  idsBetween?(lo: number, hi: number): Awaitable<number[]>;
  /** Decisions by id, oldest first. */
  decisionFactsOf?(ids: number[]): Awaitable<DecisionFact[]>;
  /**
   * The transactions holding the decisions table open for writing right now, each by an id stable while
   * it runs: a decision with an id below the newest read that is not read yet is one of theirs, or was
   * numbered after they were listed (Facts.pullLate).
   */
  openWriters?(): Awaitable<string[]>;
  /** The newest feedback row's id (0 for none). */
  maxFeedbackId(): Awaitable<number>;
  /** callFacts' rows for decisions with lo <= id < hi, up to feedback id `upTo`, oldest first. */
  callFactsBetween(lo: number, hi: number, upTo: number): Awaitable<CallFact[]>;
  /** Feedback rows with id > afterFeedbackId that carry a call's cost or tokens, or an escalation, oldest first. */
  callFacts(afterFeedbackId: number, limit: number): Awaitable<CallFact[]>;
  /** One decision with its feedback, by exact request id. */
  decision(requestId: string): Awaitable<LoggedDecision | undefined>;
  /** The newest `limit` decisions (optionally from `since`), newest first. */
  newest(limit: number, since?: number): Awaitable<LoggedDecision[]>;
  /** Human labels recorded after `sinceTs`, newest first. */
  labelsSince(sinceTs: number, limit?: number): Awaitable<RecentLabel[]>;
  /** A page of the decisions table, newest first, within the query's time budget. */
  page(q: DecisionPageQuery): Awaitable<DecisionPage>;
}

/** Ids scanned per statement: small enough that one statement stays well inside the budget. */
export const SCAN_CHUNK = 20_000;
const TAG_KEY = /^[\w.-]{1,64}$/;

/** The page size, checked: 1..500. */
export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new TriageError(`decisions page: limit must be 1..500, got ${limit}`);
}

export class DashboardReader implements DashboardLogReader {
  readonly kind = "sqlite";
  private readonly columns: string;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {
    this.columns = decisionColumns(currentSchemaVersion(db));
  }

  /** Opens `path` read-only; a file that is not a decision log is refused with a one-line TriageError. */
  static open(path: string): DashboardReader {
    inspectExistingLog(path);
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
      db.pragma("busy_timeout = 200");
    } catch (err) {
      throw new TriageError(`${path}: cannot open the decision log for reading: ${(err as Error).message}`);
    }
    return new DashboardReader(path, db);
  }

  close(): void {
    this.db.close();
  }

  /** Lowest and highest decision id (nulls for an empty log). */
  idRange(): { min: number | null; max: number | null } {
    // Two statements: SQLite answers MIN or MAX alone from the primary key, but both at once with a full scan.
    const min = (this.db.prepare("SELECT MIN(id) AS v FROM decisions").get() as { v: number | null }).v;
    const max = (this.db.prepare("SELECT MAX(id) AS v FROM decisions").get() as { v: number | null }).v;
    return { min, max };
  }

  /** What tells this log from another at the same path: when its schema was first created (ms since epoch). */
  identity(): string {
    const r = this.db.prepare("SELECT applied_at AS at FROM schema_version WHERE version = 1").get() as { at: number } | undefined;
    return `created ${r?.at ?? "?"}`;
  }

  /** The time stamp of one decision, or undefined when there is none with that id. */
  tsOf(id: number): number | undefined {
    return (this.db.prepare("SELECT ts FROM decisions WHERE id = ?").get(id) as { ts: number } | undefined)?.ts;
  }

  /** Decisions with id > afterId, oldest first, at most `limit`. */
  decisionFacts(afterId: number, limit: number): DecisionFact[] {
    return this.db
      .prepare(
        `SELECT id, ts, label, model_label, stage, decided_by, low_confidence, fallback_used, fallback_label IS NOT NULL, latency_ms, margin, model_version, tags
         FROM decisions WHERE id > ? ORDER BY id LIMIT ?`,
      )
      .raw()
      .all(afterId, limit) as DecisionFact[];
  }

  /** Decisions with lo <= id < hi, oldest first: one chunk of a build that reads the log newest first. */
  decisionFactsBetween(lo: number, hi: number): DecisionFact[] {
    return this.db
      .prepare(
        `SELECT id, ts, label, model_label, stage, decided_by, low_confidence, fallback_used, fallback_label IS NOT NULL, latency_ms, margin, model_version, tags
         FROM decisions WHERE id >= ? AND id < ? ORDER BY id`,
      )
      .raw()
      .all(lo, hi) as DecisionFact[];
  }

  /** The newest feedback row's id (0 for none): where reading feedback in id order starts from. */
  maxFeedbackId(): number {
    return (this.db.prepare("SELECT MAX(id) AS v FROM feedback").get() as { v: number | null }).v ?? 0;
  }

  /**
   * The rows callFacts would return for decisions with lo <= id < hi, up to feedback id `upTo`, oldest
   * first: the feedback of a chunk of decisions read after the feedback watermark passed them.
   */
  callFactsBetween(lo: number, hi: number, upTo: number): CallFact[] {
    return this.db
      .prepare(
        `SELECT f.id, d.id, f.kind, d.label, f.final_model, f.tokens_in, f.tokens_out, f.cost_usd
         FROM decisions d JOIN feedback f ON f.request_id = d.request_id
         WHERE d.id >= ? AND d.id < ? AND f.id <= ? AND (f.kind = 'escalated' OR f.cost_usd IS NOT NULL OR f.tokens_in IS NOT NULL OR f.tokens_out IS NOT NULL)
         ORDER BY f.id`,
      )
      .raw()
      .all(lo, hi, upTo) as CallFact[];
  }

  /**
   * Feedback rows with id > afterFeedbackId that carry a call's cost or tokens, or an escalation, oldest
   * first, with the id of their decision. Feedback on decisions already deleted (retention) is skipped.
   */
  callFacts(afterFeedbackId: number, limit: number): CallFact[] {
    return this.db
      .prepare(
        `SELECT f.id, d.id, f.kind, d.label, f.final_model, f.tokens_in, f.tokens_out, f.cost_usd
         FROM feedback f JOIN decisions d ON d.request_id = f.request_id
         WHERE f.id > ? AND (f.kind = 'escalated' OR f.cost_usd IS NOT NULL OR f.tokens_in IS NOT NULL OR f.tokens_out IS NOT NULL)
         ORDER BY f.id LIMIT ?`,
      )
      .raw()
      .all(afterFeedbackId, limit) as CallFact[];
  }

  /** One decision with its feedback, by exact request id. */
  decision(requestId: string): LoggedDecision | undefined {
    const row = this.db.prepare(`SELECT ${this.columns} FROM decisions d WHERE d.request_id = ?`).get(requestId) as DecisionRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** The newest `limit` decisions (optionally from `since`), newest first: a bounded window for the review queue. */
  newest(limit: number, since?: number): LoggedDecision[] {
    const rows = this.db
      .prepare(`SELECT ${this.columns} FROM decisions d ${since !== undefined ? "WHERE +d.ts >= ?" : ""} ORDER BY d.id DESC LIMIT ?`)
      .all(...(since !== undefined ? [since, limit] : [limit])) as DecisionRow[];
    return rows.map(fromRow);
  }

  /** Human labels recorded after `sinceTs` (the review page's "labelled since you opened it"). */
  labelsSince(sinceTs: number, limit = 50): RecentLabel[] {
    return this.db
      .prepare("SELECT id, request_id AS requestId, human_label AS label, ts, note FROM feedback WHERE kind = 'label' AND ts >= ? ORDER BY id DESC LIMIT ?")
      .all(sinceTs, limit) as RecentLabel[];
  }

  /**
   * A page of the decisions table, newest first. The id range is walked downwards in chunks, each one an
   * indexed range scan with the filters applied, until the page is full, the log is exhausted or the time
   * budget is spent (then `partial`, and `older` resumes where it stopped).
   */
  page(q: DecisionPageQuery): DecisionPage {
    checkPageLimit(q.limit);
    const { min, max } = this.idRange();
    if (min === null || max === null) return { rows: [], older: null, partial: false, scanned: 0 };
    const filter = pageFilter(q, "sqlite");
    const floor = Math.max(min, q.since !== undefined ? (this.firstIdAtOrAfter(q.since) ?? max + 1) : min);
    let cursor = Math.min(q.before ?? max + 1, q.until !== undefined ? (this.firstIdAtOrAfter(q.until) ?? max + 1) : max + 1);
    const started = performance.now();
    const budget = q.budgetMs ?? 150;
    const rows: LoggedDecision[] = [];
    let scanned = 0;
    while (rows.length < q.limit && cursor > floor) {
      const lo = Math.max(floor, cursor - SCAN_CHUNK);
      const found = this.db
        .prepare(`SELECT ${this.columns} FROM decisions d WHERE d.id < ? AND d.id >= ? ${filter.sql} ORDER BY d.id DESC LIMIT ?`)
        .all(cursor, lo, ...filter.params, q.limit - rows.length) as DecisionRow[];
      for (const r of found) rows.push(fromRow(r));
      // A full page stops inside the chunk: the next page starts below its last row.
      const last = rows.length === q.limit ? rows[rows.length - 1].id : lo;
      scanned += cursor - last;
      cursor = last;
      if (rows.length < q.limit && performance.now() - started > budget) return { rows, older: cursor > floor ? cursor : null, partial: cursor > floor, scanned };
    }
    return { rows, older: cursor > floor ? cursor : null, partial: false, scanned };
  }

  /** The id of the first decision stamped at or after `ts` (by the ts index): where a time range starts in id order. */
  private firstIdAtOrAfter(ts: number): number | undefined {
    const r = this.db.prepare("SELECT id FROM decisions WHERE ts >= ? ORDER BY ts LIMIT 1").get(ts) as { id: number } | undefined;
    return r?.id;
  }
}

/**
 * The page filters as SQL over `decisions d` (values bound as `?`, never interpolated), in either dialect.
 * `+d.ts` keeps SQLite on the id range: ids follow log() order and ts is stamped at log(), so the time
 * range maps onto the id range. PostgreSQL reads the tags' JSON with `->>`, and matches text with ILIKE
 * because SQLite's LIKE ignores case.
 */
export function pageFilter(q: DecisionPageQuery, dialect: "sqlite" | "postgres"): { sql: string; params: Array<string | number> } {
  const pg = dialect === "postgres";
  const ts = pg ? "d.ts" : "+d.ts";
  const like = pg ? "ILIKE" : "LIKE";
  const parts: string[] = [];
  const params: Array<string | number> = [];
  const add = (sql: string, ...values: Array<string | number>) => {
    parts.push(sql);
    params.push(...values);
  };
  if (q.since !== undefined) add(`${ts} >= ?`, q.since);
  if (q.until !== undefined) add(`${ts} < ?`, q.until);
  if (q.label !== undefined) add("d.label = ?", q.label);
  if (q.stage !== undefined) add("d.stage = ?", q.stage);
  if (q.decidedBy !== undefined) add("d.decided_by = ?", q.decidedBy);
  if (q.lowConfidence !== undefined) add("d.low_confidence = ?", q.lowConfidence ? 1 : 0);
  if (q.feedback === "any") parts.push("EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id)");
  else if (q.feedback === "none") parts.push("NOT EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id)");
  else if (q.feedback !== undefined) add("EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id AND f.kind = ?)", q.feedback);
  if (q.tag) {
    if (!TAG_KEY.test(q.tag.key)) throw new TriageError(`decisions page: tag key "${q.tag.key.slice(0, 80)}" is not a tag name (letters, digits, _ . -)`);
    if (pg) add("(d.tags::json ->> ?) = ?", q.tag.key, q.tag.value);
    else add("json_extract(d.tags, ?) = ?", `$."${q.tag.key}"`, q.tag.value);
  }
  const s = q.search?.trim();
  if (s) {
    const anywhere = `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const prefix = `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const hashLike = /^[0-9a-f]{6,64}$/i.test(s) ? " OR d.text_hash LIKE ? ESCAPE '\\'" : "";
    add(`(d.text ${like} ? ESCAPE '\\' OR d.request_id ${like} ? ESCAPE '\\'${hashLike})`, anywhere, prefix, ...(hashLike ? [prefix.toLowerCase()] : []));
  }
  return { sql: parts.length ? `AND ${parts.join(" AND ")}` : "", params };
}
