/**
 * @module The decision log's writes: the queue of decisions (and of feedback about them, behind them) and their commit, batched (one transaction
 * per batch, on an unref'd timer or when a batch fills) or strict (committed before log() returns), and
 * what happens when the database fails: rows stay queued and are retried, bounded by maxPending.
 */
import type Database from "better-sqlite3";
import { TriageError } from "../common/errors.js";
import type { ResolvedLogOptions } from "./options.js";
import { feedbackParams, feedbackRejection, INSERT_FEEDBACK_SQL, isPendingFeedback, type PendingFeedback } from "./feedback.js";
import { INSERT_DECISION_SQL, toParams, type DecisionParams, type PendingDecision } from "./rows.js";

/** What a write queue holds, in the order it is written: decisions, and feedback about decisions queued before it. */
export type PendingRow = PendingDecision | PendingFeedback;

const RETRY_AFTER_FAILURE_MS = 1000;
/**
 * Rows per transaction when the queue writes on its own (timer, full batch): better-sqlite3 writes on the
 * event loop, and a few hundred rows at once held every request behind them for several milliseconds (the
 * served p99). A backlog of more is written a slice per event-loop turn; explicit flush() writes everything.
 */
export const BACKGROUND_SLICE_ROWS = 64;
/** The code of a strict log()'s error when the decision could not be committed. */
export const NOT_COMMITTED = "E_LOG_NOT_COMMITTED";

/**
 * Decision rows written since open / already logged (duplicate request ids) / not written (constraint
 * failures, a full queue: decisions and feedback). Feedback rows are not counted as written.
 */
export interface WriteCounters {
  written: number;
  duplicates: number;
  dropped: number;
  flushes: number;
}

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

export class WriteQueue {
  readonly counters: WriteCounters = { written: 0, duplicates: 0, dropped: 0, flushes: 0 };
  private pending: PendingRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  private readonly writeBatch: (batch: PendingRow[]) => BatchOutcome;
  /** After a failed flush, add() at the maxPending cap drops rows until then instead of blocking on the database. */
  private retryWritesAt = 0;

  constructor(
    private readonly path: string,
    db: Database.Database,
    private readonly options: ResolvedLogOptions,
    private readonly onError: (error: Error) => void,
  ) {
    const insert = db.prepare<DecisionParams>(INSERT_DECISION_SQL);
    const insertFeedback = db.prepare<unknown[]>(INSERT_FEEDBACK_SQL);
    this.writeBatch = db.transaction((batch: PendingRow[]): BatchOutcome => {
      const outcome: BatchOutcome = { written: 0, duplicates: 0, rejected: [] };
      for (const p of batch) {
        try {
          // In queue order: a feedback row follows the decision it is about, so the foreign key finds it.
          if (isPendingFeedback(p)) insertFeedback.run(...feedbackParams(p.requestId, p.feedback));
          else if (insert.run(...toParams(p, options.textMode, options.maxTextChars)).changes === 1) outcome.written++;
          else outcome.duplicates++;
        } catch (err) {
          // One malformed row must not cost the rest of the batch (nor block every later flush);
          // a database-level failure (busy, I/O, disk full) aborts the transaction and the batch is retried.
          if (!isRowError(err)) throw err;
          outcome.rejected.push(isPendingFeedback(p) ? feedbackRejection(p, err) : `request ${String(p.decision?.requestId)} not stored: ${(err as Error).message}`);
        }
      }
      return outcome;
    });
  }

  /** Number of queued rows not yet written. */
  get size(): number {
    return this.pending.length;
  }

  /** Batched: queues the row (no I/O). Strict: commits it now, throwing NOT_COMMITTED when the database cannot. */
  add(row: PendingRow): void {
    if (this.options.durability === "strict") {
      this.commitNow(row);
      return;
    }
    if (this.pending.length >= this.options.maxPending) {
      // The database has been failing for a while: never let that block or break the caller.
      if (Date.now() >= this.retryWritesAt) this.backgroundFlush(false);
      if (this.pending.length >= this.options.maxPending) {
        this.lose(1, "the queue is full and the database is failing");
        return;
      }
    }
    const n = this.pending.push(row);
    if (n >= this.options.maxPending) {
      this.backgroundFlush(false);
    } else if (n >= this.options.batchSize) {
      if (!this.immediate) this.immediate = setImmediate(() => this.backgroundFlush()).unref();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.backgroundFlush(), this.options.flushIntervalMs).unref();
    }
  }

  /** Writes all queued rows (or the first `limit`) in one transaction; returns how many it wrote. Throws if the write fails (rows stay queued). */
  flush(limit = Number.POSITIVE_INFINITY): number {
    this.cancelScheduled();
    if (this.pending.length === 0) return 0;
    const batch = this.pending.length > limit ? this.pending.slice(0, limit) : this.pending;
    this.pending = batch === this.pending ? [] : this.pending.slice(limit);
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

  /** No more timers: the log is closing (after its last flush). */
  stop(): void {
    this.stopped = true;
    this.cancelScheduled();
  }

  /**
   * Strict mode: this row (and any still queued after a failure) in one transaction, now. A failure is a
   * TriageError with code E_LOG_NOT_COMMITTED, so a server can refuse to answer a decision it could not log.
   */
  private commitNow(row: PendingRow): void {
    if (this.pending.length >= this.options.maxPending) {
      this.lose(1, "the queue is full and the database is failing");
      const what = isPendingFeedback(row) ? `feedback for ${row.requestId}` : `decision ${String(row.decision?.requestId)}`;
      throw new TriageError(`decision log ${this.path}: ${what} not logged: the database is failing`, NOT_COMMITTED);
    }
    this.pending.push(row);
    try {
      this.flush();
    } catch (err) {
      this.scheduleRetry();
      throw new TriageError((err as Error).message, NOT_COMMITTED);
    }
  }

  /**
   * Flush from a timer or from add(): failures are reported, never thrown, and retried later. `slice`: one
   * slice now and, while a slice's worth is still queued, the next on the next turn; fewer wait for the timer.
   */
  private backgroundFlush(slice = true): void {
    try {
      this.flush(slice ? BACKGROUND_SLICE_ROWS : undefined);
      if (this.pending.length >= BACKGROUND_SLICE_ROWS && !this.stopped) this.immediate = setImmediate(() => this.backgroundFlush()).unref();
      else if (this.pending.length > 0 && !this.stopped) this.timer = setTimeout(() => this.backgroundFlush(), this.options.flushIntervalMs).unref();
    } catch (err) {
      this.onError(err as Error);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.pending.length && !this.stopped && !this.timer)
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
}
