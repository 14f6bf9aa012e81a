/**
 * @module What the rest of triage needs from a decision log, whichever database holds it: `DecisionStore`.
 * The SQLite log (log.ts) answers synchronously and the PostgreSQL one (postgres/) with promises, so
 * callers `await` every call and read rows with `for await`, which takes both.
 */
import type { Decision } from "../router/types.js";
import type { Durability } from "./durability.js";
import type { ExportFormat } from "./export.js";
import type { PruneOptions } from "./prune.js";
import type { WriteCounters } from "./queue.js";
import type { StatsOptions } from "./stats.js";
import type { DecisionFilters, FeedbackInput, LogStats, LoggedDecision, TextMode } from "./types.js";

/** A value now (SQLite) or later (PostgreSQL). */
export type Awaitable<T> = T | Promise<T>;

export interface DecisionStore {
  /** Which database holds the log. */
  readonly kind: "sqlite" | "postgres";
  /** Where the log is, safe to print: a file path, or a postgres:// URL without its password. */
  readonly path: string;
  readonly textMode: TextMode;
  readonly durability: Durability;
  /** Rows written since open / not written (duplicate request ids, constraint failures). */
  readonly counters: WriteCounters;
  /** Queued rows not yet written. */
  readonly pendingCount: number;
  /**
   * Batched: queues the decision and returns at once (no I/O). Strict: the decision is committed when this
   * returns (SQLite) or when the promise it returns resolves (PostgreSQL); failing that, a TriageError
   * with code NOT_COMMITTED is thrown or rejected.
   */
  log(decision: Decision, text: string, tags?: Record<string, string>): void | Promise<void>;
  /** Writes the queued rows; resolves to how many were queued. */
  flush(): Awaitable<number>;
  /** Flushes and closes; idempotent. */
  close(): Awaitable<void>;
  /** Records feedback for a logged decision; resolves to the feedback row id. */
  feedback(requestId: string, input: FeedbackInput): Awaitable<number>;
  /**
   * Queues feedback behind the decisions queued so far, with the same durability as log(): batched, written
   * with the next batch (after its decision); strict, committed when this returns or its promise resolves.
   * Invalid feedback throws at once; feedback whose decision is not in the log is reported to onError.
   */
  queueFeedback(requestId: string, input: FeedbackInput): void | Promise<void>;
  deleteFeedback(id: number): Awaitable<void>;
  query(filters?: DecisionFilters): Awaitable<LoggedDecision[]>;
  count(filters?: Omit<DecisionFilters, "limit" | "order">): Awaitable<number>;
  /** Matching decisions page by page, with bounded memory. */
  rows(filters?: DecisionFilters, pageSize?: number): Iterable<LoggedDecision> | AsyncIterable<LoggedDecision>;
  export(filters: DecisionFilters, format: ExportFormat, out: NodeJS.WritableStream): Promise<number>;
  stats(options?: StatsOptions): Awaitable<LogStats>;
  prune(options: PruneOptions): Awaitable<number>;
}
