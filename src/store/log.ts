import Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import type { Decision } from "../router/types.js";
import { csvHeader, csvLine, jsonLine, writeRespectingBackpressure, type ExportFormat } from "./export.js";
import { buildWhere, checkLimit } from "./filters.js";
import { durabilityFields, resolveDurability, type Durability } from "./durability.js";
import { INSERT_DECISION_SQL, decisionColumns, fromRow, toParams, type DecisionParams, type DecisionRow, type PendingDecision } from "./rows.js";
import { LATEST_SCHEMA_VERSION, currentSchemaVersion, inspectExistingLog, migrate } from "./schema.js";
import { computeStats, type StatsOptions } from "./stats.js";
import { DEFAULT_MAX_TEXT_CHARS, keepText } from "./text.js";
import type { DecisionFilters, FeedbackInput, LogStats, LoggedDecision, TextMode } from "./types.js";

const optionsSchema = z
  .object({
    textMode: z.enum(["store", "hash", "redact"]).default("store"),
    /** At most this many UTF-16 code units of each text are stored (the whole text's hash and length always are). */
    maxTextChars: z.number().int().nonnegative().default(DEFAULT_MAX_TEXT_CHARS),
    /** A full batch is written on the next event-loop turn instead of waiting for the timer. */
    batchSize: z.number().int().positive().default(256),
    /** Batched mode: how long a decision may wait in the queue, i.e. what a kill -9 or power loss can lose. */
    flushIntervalMs: z.number().int().nonnegative().default(50),
    /**
     * durability "batched" | "strict": see durability.ts. sync "normal" (WAL, no fsync per commit): a commit
     * survives a process crash; on power loss the last commits may roll back. "full": also survives power
     * loss, at the price of an fsync per commit on the event loop. Either way the file is never corrupted.
     */
    ...durabilityFields,
    /**
     * At this many queued rows log() writes them itself (bounds memory when the event loop never yields).
     * If the database keeps failing, rows beyond it are dropped and reported, never thrown at the caller.
     */
    maxPending: z.number().int().positive().default(50_000),
    readonly: z.boolean().default(false),
    /**
     * How long a write waits for another process's write lock. better-sqlite3 waits synchronously, so
     * this bounds how long a flush can hold the event loop; a flush that gives up is retried later.
     */
    busyTimeoutMs: z.number().int().nonnegative().default(1000),
  })
  .strict()
  .transform(resolveDurability);

export type DecisionLogOptions = z.input<typeof optionsSchema> & {
  /** Background flush failures and rows that could not be stored. Default: a process warning. */
  onError?: (error: Error) => void;
};

const feedbackSchema = z
  .object({
    kind: z.enum(["label", "thumbs", "escalated", "outcome"]),
    humanLabel: z.string().min(1).optional(),
    thumbs: z.union([z.literal(1), z.literal(-1)]).optional(),
    finalModel: z.string().min(1).optional(),
    tokensIn: z.number().int().nonnegative().optional(),
    tokensOut: z.number().int().nonnegative().optional(),
    costUsd: z.number().nonnegative().optional(),
    note: z.string().optional(),
    ts: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((f) => f.kind !== "label" || f.humanLabel !== undefined, { message: 'kind "label" needs humanLabel', path: ["humanLabel"] })
  .refine((f) => f.kind !== "thumbs" || f.thumbs !== undefined, { message: 'kind "thumbs" needs thumbs: 1 or -1', path: ["thumbs"] });

const RETRY_AFTER_FAILURE_MS = 1000;
/** The code of a strict log()'s error when the decision could not be committed. */
export const NOT_COMMITTED = "E_LOG_NOT_COMMITTED";

interface BatchOutcome {
  written: number;
  duplicates: number;
  /** Why each rejected row was not stored. */
  rejected: string[];
}

/** Errors caused by one row's content: conversion/binding errors and constraint violations. */
function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return true; // TypeError/RangeError from converting or binding
  return code.startsWith("SQLITE_CONSTRAINT") || code === "SQLITE_MISMATCH" || code === "SQLITE_TOOBIG" || code === "SQLITE_RANGE";
}

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
 * The decision log: one SQLite row per routing decision, plus feedback about it.
 * Batched (default): log() only queues; rows are written in one transaction per batch, on an unref'd timer
 * or when a batch fills. A crash loses at most the queued rows, never committed ones (WAL).
 * Strict: log() commits the row before it returns.
 */
export class DecisionLog {
  readonly textMode: TextMode;
  readonly durability: Durability;
  /** Rows written since open / not written (duplicate request ids, constraint failures). */
  readonly counters = { written: 0, duplicates: 0, dropped: 0, flushes: 0 };
  private pending: PendingDecision[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private readonly columns: string;
  private readonly writeBatch: (batch: PendingDecision[]) => BatchOutcome;
  /** After a failed flush, log() at the maxPending cap drops rows until then instead of blocking on the database. */
  private retryWritesAt = 0;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    private readonly options: z.output<typeof optionsSchema>,
    private readonly onError: (error: Error) => void,
  ) {
    this.textMode = options.textMode;
    this.durability = options.durability;
    // Read-only opens are not migrated, so an older file may lack newer columns.
    this.columns = decisionColumns(options.readonly ? currentSchemaVersion(db) : LATEST_SCHEMA_VERSION);
    const insert = options.readonly ? undefined : db.prepare<DecisionParams>(INSERT_DECISION_SQL);
    this.writeBatch = db.transaction((batch: PendingDecision[]): BatchOutcome => {
      if (!insert) throw new TriageError(`decision log ${path} was opened read-only`);
      const outcome: BatchOutcome = { written: 0, duplicates: 0, rejected: [] };
      for (const p of batch) {
        try {
          if (insert.run(...toParams(p, this.textMode, this.options.maxTextChars)).changes === 1) outcome.written++;
          else outcome.duplicates++;
        } catch (err) {
          // One malformed decision must not cost the rest of the batch (nor block every later flush);
          // a database-level failure (busy, I/O, disk full) aborts the transaction and the batch is retried.
          if (!isRowError(err)) throw err;
          outcome.rejected.push(`request ${String(p.decision?.requestId)} not stored: ${(err as Error).message}`);
        }
      }
      return outcome;
    });
  }

  /**
   * Opens (creating and migrating if needed) a decision log. A file that is not a triage log, or has a
   * newer schema, is refused with a TriageError before anything is written to it.
   */
  static open(path: string, options: DecisionLogOptions = {}): DecisionLog {
    const { onError, ...rest } = options;
    const parsed = optionsSchema.safeParse(rest);
    if (!parsed.success) throw new TriageError(`decision log options: ${formatZodError(parsed.error)}`);
    const opts = parsed.data;
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
    if (this.options.readonly) throw new TriageError(`decision log ${this.path} was opened read-only`);
    const row: PendingDecision = { ts: Date.now(), decision, text, tags };
    if (typeof text === "string" && text.length > this.options.maxTextChars) {
      // Cut it now, so a queue of oversized texts holds no more than the cap of each.
      row.kept = keepText(text, this.textMode, this.options.maxTextChars);
      row.text = "";
    }
    if (this.durability === "strict") {
      this.commitNow(row);
      return;
    }
    if (this.pending.length >= this.options.maxPending) {
      // The database has been failing for a while: never let that block or break the caller.
      if (Date.now() >= this.retryWritesAt) this.backgroundFlush();
      if (this.pending.length >= this.options.maxPending) {
        this.lose(1, "the queue is full and the database is failing");
        return;
      }
    }
    const n = this.pending.push(row);
    if (n >= this.options.maxPending) {
      this.backgroundFlush();
    } else if (n >= this.options.batchSize) {
      if (!this.immediate) this.immediate = setImmediate(() => this.backgroundFlush()).unref();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.backgroundFlush(), this.options.flushIntervalMs).unref();
    }
  }

  /** Number of queued rows not yet written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes all queued rows in one transaction; returns how many were queued. Throws if the write fails (rows stay queued). */
  flush(): number {
    this.cancelScheduled();
    if (this.pending.length === 0) return 0;
    const batch = this.pending;
    this.pending = [];
    let outcome: BatchOutcome;
    try {
      outcome = this.writeBatch(batch);
    } catch (err) {
      // Nothing of this batch was committed: put it back in front (bounded), so a later flush can retry.
      this.retryWritesAt = Date.now() + RETRY_AFTER_FAILURE_MS;
      const requeued = batch.concat(this.pending);
      this.pending = requeued.slice(0, this.options.maxPending);
      if (requeued.length > this.pending.length) this.lose(requeued.length - this.pending.length, "the queue is full");
      throw new TriageError(`decision log ${this.path}: writing ${batch.length} decisions failed: ${(err as Error).message}`);
    }
    this.counters.flushes++;
    this.counters.written += outcome.written;
    this.counters.duplicates += outcome.duplicates;
    this.counters.dropped += outcome.rejected.length;
    for (const why of outcome.rejected) this.onError(new TriageError(`decision log: ${why}`));
    return batch.length;
  }

  /**
   * Strict mode: this row (and any still queued after a failure) in one transaction, now. A failure is a
   * TriageError with code E_LOG_NOT_COMMITTED, so a server can refuse to answer a decision it could not log.
   */
  private commitNow(row: PendingDecision): void {
    if (this.pending.length >= this.options.maxPending) {
      this.lose(1, "the queue is full and the database is failing");
      throw new TriageError(`decision log ${this.path}: decision ${String(row.decision?.requestId)} not logged: the database is failing`, NOT_COMMITTED);
    }
    this.pending.push(row);
    try {
      this.flush();
    } catch (err) {
      this.scheduleRetry();
      throw new TriageError((err as Error).message, NOT_COMMITTED);
    }
  }

  /** Flush from a timer or from log(): failures are reported, never thrown, and retried later. */
  private backgroundFlush(): void {
    try {
      this.flush();
    } catch (err) {
      this.onError(err as Error);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.pending.length && !this.closed && !this.timer)
      this.timer = setTimeout(() => this.backgroundFlush(), Math.max(this.options.flushIntervalMs, RETRY_AFTER_FAILURE_MS)).unref();
  }

  private lose(rows: number, why: string): void {
    this.counters.dropped += rows;
    this.onError(new TriageError(`decision log ${this.path}: ${rows} decision(s) not logged: ${why}`));
  }

  private cancelScheduled(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Flushes and closes; idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.options.readonly) this.flush();
    } finally {
      this.closed = true;
      openLogs.delete(this);
      this.cancelScheduled();
      this.db.close();
    }
  }

  /** Records feedback for a logged decision (flushing queued rows first); returns the feedback row id. */
  feedback(requestId: string, input: FeedbackInput): number {
    this.assertWritable();
    const parsed = feedbackSchema.safeParse(input);
    if (!parsed.success) throw new TriageError(`feedback for ${requestId}: ${formatZodError(parsed.error)}`);
    const f = parsed.data;
    this.flush();
    const known = this.db.prepare("SELECT 1 FROM decisions WHERE request_id = ?").get(requestId);
    if (!known) throw new TriageError(`feedback: unknown request id "${requestId}" (no decision with that id in ${this.path})`, "E_UNKNOWN_REQUEST");
    const info = this.db
      .prepare(
        `INSERT INTO feedback (request_id, ts, kind, human_label, thumbs, final_model, tokens_in, tokens_out, cost_usd, note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        requestId,
        f.ts ?? Date.now(),
        f.kind,
        f.humanLabel ?? null,
        f.thumbs ?? null,
        f.finalModel ?? null,
        f.tokensIn ?? null,
        f.tokensOut ?? null,
        f.costUsd ?? null,
        f.note ?? null,
      );
    return Number(info.lastInsertRowid);
  }

  /** Logged decisions matching the filters, with their feedback, in insertion order (or reversed). */
  query(filters: DecisionFilters = {}): LoggedDecision[] {
    return this.page(filters, checkLimit(filters.limit));
  }

  count(filters: Omit<DecisionFilters, "limit" | "order"> = {}): number {
    this.flushIfWritable();
    const where = buildWhere(filters);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM decisions d ${where.sql}`).get(...where.params) as { n: number }).n;
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
  async export(filters: DecisionFilters, format: ExportFormat, out: NodeJS.WritableStream): Promise<number> {
    if (format !== "jsonl" && format !== "csv") throw new TriageError(`export format: expected "jsonl" or "csv", got "${String(format)}"`);
    const toLine = format === "csv" ? csvLine : jsonLine;
    if (format === "csv") await writeRespectingBackpressure(out, csvHeader());
    let written = 0;
    for (const row of this.rows(filters)) {
      await writeRespectingBackpressure(out, toLine(row));
      written++;
    }
    return written;
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
  prune(options: { olderThanMs?: number; maxRows?: number; now?: number; limit?: number }): number {
    this.assertWritable();
    const { olderThanMs, maxRows, limit } = options;
    if (olderThanMs !== undefined && !(Number.isFinite(olderThanMs) && olderThanMs >= 0))
      throw new TriageError(`prune: olderThanMs must be a non-negative number of ms, got ${olderThanMs}`);
    if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0))
      throw new TriageError(`prune: maxRows must be a non-negative integer, got ${maxRows}`);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new TriageError(`prune: limit must be a positive integer, got ${limit}`);
    this.flush();
    const now = options.now ?? Date.now();
    return this.db.transaction(() => {
      let deleted = 0;
      if (olderThanMs !== undefined)
        deleted += this.db
          .prepare("DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE ts < ? ORDER BY ts LIMIT ?)")
          .run(now - olderThanMs, limit ?? -1).changes; // LIMIT -1: no limit
      const left = limit === undefined ? Infinity : limit - deleted;
      if (maxRows !== undefined && left > 0) {
        const surplus = this.rowsBeyond(maxRows);
        if (surplus > 0)
          deleted += this.db.prepare("DELETE FROM decisions WHERE id IN (SELECT id FROM decisions ORDER BY id LIMIT ?)").run(Math.min(surplus, left)).changes;
      }
      return deleted;
    })();
  }

  /** How many decisions exceed `maxRows`; counts only when the id range says the cap may be exceeded. */
  private rowsBeyond(maxRows: number): number {
    const range = this.db.prepare("SELECT MIN(id) AS lo, MAX(id) AS hi FROM decisions").get() as { lo: number | null; hi: number | null };
    if (range.lo === null || range.hi === null || range.hi - range.lo + 1 <= maxRows) return 0;
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM decisions").get() as { n: number };
    return Math.max(0, n - maxRows);
  }

  private page(filters: DecisionFilters, limit: number | undefined, cursor?: number): LoggedDecision[] {
    this.flushIfWritable();
    const desc = filters.order === "desc";
    const where = buildWhere(filters, desc ? undefined : cursor, desc ? cursor : undefined);
    const rows = this.db
      .prepare(`SELECT ${this.columns} FROM decisions d ${where.sql} ORDER BY d.id ${desc ? "DESC" : "ASC"}${limit !== undefined ? " LIMIT ?" : ""}`)
      .all(...where.params, ...(limit !== undefined ? [limit] : [])) as DecisionRow[];
    return rows.map(fromRow);
  }

  private flushIfWritable(): void {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    if (!this.options.readonly) this.flush();
  }

  private assertWritable(): void {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    if (this.options.readonly) throw new TriageError(`decision log ${this.path} was opened read-only`);
  }
}
