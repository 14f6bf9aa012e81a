/**
 * @module The decision log: one SQLite row per routing decision, plus feedback about it, behind one class.
 * DecisionLog opens the file (refusing one that is not a triage log, migrating an older one) and hands
 * each job to a small file, better-sqlite3-style: writes to queue.ts, reads to reads.ts, feedback to
 * feedback.ts, export to export.ts, stats to stats.ts and deletions to prune.ts.
 */
import Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import type { Decision } from "../router/types.js";
import type { Durability } from "./durability.js";
import { exportDecisions, type ExportFormat } from "./export.js";
import { FeedbackStatements, parseFeedback, pendingFeedback } from "./feedback.js";
import { checkLimit } from "./filters.js";
import { isPostgresUrl, redactUrl } from "./location.js";
import { logOptionsSchema, type DecisionLogOptions, type ResolvedLogOptions } from "./options.js";
import { checkPruneOptions, pruneDecisions, type PruneOptions } from "./prune.js";
import { WriteQueue, type WriteCounters } from "./queue.js";
import { countDecisions, readPage } from "./reads.js";
import { decisionColumns, type PendingDecision } from "./rows.js";
import { LATEST_SCHEMA_VERSION, currentSchemaVersion, inspectExistingLog, migrate } from "./schema.js";
import { computeStats, type StatsOptions } from "./stats.js";
import type { DecisionStore } from "./store.js";
import { keepText } from "./text.js";
import type { DecisionFilters, FeedbackInput, LogStats, LoggedDecision, TextMode } from "./types.js";

export type { DecisionLogOptions } from "./options.js";
export { NOT_COMMITTED } from "./queue.js";

/** Logs still open at exit get their queued rows written (better-sqlite3 is synchronous, so 'exit' can do it). */
const openLogs = new Set<DecisionLog>();
let exitHookInstalled = false;
function trackForExit(log: DecisionLog): void {
  openLogs.add(log);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const l of openLogs) {
      try {
        l.close();
      } catch {
        // exiting anyway; nothing left to report to
      }
    }
  });
}

/**
 * The decision log. Batched (default): log() only queues; rows are written in one transaction per batch,
 * on an unref'd timer or when a batch fills. A crash loses at most the queued rows, never committed ones
 * (WAL). Strict: log() commits the row before it returns.
 */
export class DecisionLog implements DecisionStore {
  readonly kind = "sqlite";
  readonly textMode: TextMode;
  readonly durability: Durability;
  private closed = false;
  private readonly columns: string;
  /** Undefined when opened read-only. */
  private readonly queue: WriteQueue | undefined;
  private readonly feedbackStatements: FeedbackStatements;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    private readonly options: ResolvedLogOptions,
    onError: (error: Error) => void,
  ) {
    this.textMode = options.textMode;
    this.durability = options.durability;
    // Read-only opens are not migrated, so an older file may lack newer columns.
    this.columns = decisionColumns(options.readonly ? currentSchemaVersion(db) : LATEST_SCHEMA_VERSION);
    this.queue = options.readonly ? undefined : new WriteQueue(path, db, options, onError);
    this.feedbackStatements = new FeedbackStatements(db, path);
  }

  /**
   * Opens (creating and migrating if needed) a decision log. A file that is not a triage log, or has a
   * newer schema, is refused with a TriageError before anything is written to it.
   */
  static open(path: string, options: DecisionLogOptions = {}): DecisionLog {
    const { onError, ...rest } = options;
    const parsed = logOptionsSchema.safeParse(rest);
    if (!parsed.success) throw new TriageError(`decision log options: ${formatZodError(parsed.error)}`);
    const opts = parsed.data;
    if (isPostgresUrl(path)) throw new TriageError(`${redactUrl(path)} is a PostgreSQL URL, not a SQLite file: open it with openDecisionLog`);
    const exists = path !== ":memory:" && existsSync(path);
    if (exists && statSync(path).isDirectory()) throw new TriageError(`${path} is a directory, not a decision log file`);
    // A fresh WAL database may still be all in its -wal file, with an empty main file.
    if (exists && (statSync(path).size > 0 || existsSync(`${path}-wal`))) inspectExistingLog(path);
    else if (opts.readonly) throw new TriageError(`${path}: no decision log there`);

    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly: opts.readonly });
    try {
      db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
      db.pragma("foreign_keys = ON");
      if (!opts.readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma(`synchronous = ${opts.sync === "full" ? "FULL" : "NORMAL"}`);
        migrate(db);
      }
    } catch (err) {
      db.close();
      throw err;
    }
    const log = new DecisionLog(path, db, opts, onError ?? ((e) => process.emitWarning(e.message, "TriageDecisionLog")));
    if (!opts.readonly) trackForExit(log);
    return log;
  }

  /**
   * Batched: queues a decision; synchronous and cheap (no I/O). Strict: commits it before returning, and
   * throws a TriageError when the database cannot (the row stays queued and is retried). Either way a
   * malformed decision is reported to onError, not thrown. The decision object must not be mutated afterwards.
   */
  log(decision: Decision, text: string, tags?: Record<string, string>): void {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    if (!this.queue) throw new TriageError(`decision log ${this.path} was opened read-only`);
    const row: PendingDecision = { ts: Date.now(), decision, text, tags };
    if (typeof text === "string" && text.length > this.options.maxTextChars) {
      // Cut it now, so a queue of oversized texts holds no more than the cap of each.
      row.kept = keepText(text, this.textMode, this.options.maxTextChars);
      row.text = "";
    }
    this.queue.add(row);
  }

  /** Rows written since open / not written (duplicate request ids, constraint failures). */
  get counters(): WriteCounters {
    return this.queue?.counters ?? { written: 0, duplicates: 0, dropped: 0, flushes: 0 };
  }

  /** Number of queued rows not yet written. */
  get pendingCount(): number {
    return this.queue?.size ?? 0;
  }

  /** Writes all queued rows in one transaction; returns how many were queued. Throws if the write fails (rows stay queued). */
  flush(): number {
    return this.queue?.flush() ?? 0;
  }

  /** Flushes and closes; idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.queue?.flush();
    } finally {
      this.closed = true;
      openLogs.delete(this);
      this.queue?.stop();
      this.db.close();
    }
  }

  /** Records feedback for a logged decision (flushing queued rows first); returns the feedback row id. */
  feedback(requestId: string, input: FeedbackInput): number {
    this.assertWritable();
    const f = parseFeedback(requestId, input);
    this.flush();
    return this.feedbackStatements.insert(requestId, f);
  }

  /**
   * Queues feedback behind the decisions queued so far, as log() queues a decision: batched, no I/O (written
   * with the next batch, after its decision); strict, committed before it returns (NOT_COMMITTED otherwise).
   * Invalid feedback throws now; feedback whose decision is not in the log is reported to onError.
   */
  queueFeedback(requestId: string, input: FeedbackInput): void {
    this.assertWritable();
    this.queue!.add(pendingFeedback(requestId, input));
  }

  /** Deletes one feedback row by the id feedback() returned (e.g. a label taken back in review). */
  deleteFeedback(id: number): void {
    this.assertWritable();
    this.feedbackStatements.delete(id);
  }

  /** Logged decisions matching the filters, with their feedback, in insertion order (or reversed). */
  query(filters: DecisionFilters = {}): LoggedDecision[] {
    return this.page(filters, checkLimit(filters.limit));
  }

  count(filters: Omit<DecisionFilters, "limit" | "order"> = {}): number {
    this.flushIfWritable();
    return countDecisions(this.db, filters);
  }

  /**
   * Matching decisions page by page (keyset pagination), for reading big logs with bounded memory.
   * Each page is read completely before it is yielded, so no statement stays open between pages.
   */
  *rows(filters: DecisionFilters = {}, pageSize = 1000): Generator<LoggedDecision, void, undefined> {
    const limit = checkLimit(filters.limit) ?? Infinity;
    let seen = 0;
    let cursor: number | undefined;
    while (seen < limit) {
      const page = this.page(filters, Math.min(pageSize, limit - seen), cursor);
      if (page.length === 0) return;
      yield* page;
      seen += page.length;
      cursor = page[page.length - 1].id;
    }
  }

  /** Streams matching decisions as JSON lines or CSV (with a header); resolves to the number of rows written. */
  export(filters: DecisionFilters, format: ExportFormat, out: NodeJS.WritableStream): Promise<number> {
    return exportDecisions(this.rows(filters), format, out);
  }

  stats(options: StatsOptions = {}): LogStats {
    this.flushIfWritable();
    return computeStats(this.db, options);
  }

  /**
   * Deletes decisions (and their feedback) older than `olderThanMs`, then all but the newest `maxRows`;
   * returns decisions deleted. `limit` caps the deletions of one call (the oldest first), so a caller on
   * the event loop can prune a big surplus in short steps.
   */
  prune(options: PruneOptions): number {
    this.assertWritable();
    checkPruneOptions(options);
    this.flush();
    return pruneDecisions(this.db, options);
  }

  private page(filters: DecisionFilters, limit: number | undefined, cursor?: number): LoggedDecision[] {
    this.flushIfWritable();
    return readPage(this.db, this.columns, filters, limit, cursor);
  }

  private flushIfWritable(): void {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    this.queue?.flush();
  }

  private assertWritable(): void {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    if (this.options.readonly) throw new TriageError(`decision log ${this.path} was opened read-only`);
  }
}
