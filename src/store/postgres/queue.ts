/**
 * @module The PostgreSQL decision log's writes: decisions queue in memory and are written by multi-row
 * INSERTs, one transaction per flush, off the caller's path. Batched: a timer (or a full batch) flushes.
 * Strict: log() returns a promise that resolves once its row is committed; the rows of one event-loop
 * turn commit together (group commit). A failing database keeps rows queued (bounded by maxPending) and
 * retries; a row PostgreSQL rejects for its content is reported and skipped, never the whole batch.
 */
import type pg from "pg";
import { TriageError } from "../../common/errors.js";
import type { ResolvedLogOptions } from "../options.js";
import { feedbackParams, feedbackRejection, INSERT_FEEDBACK_SQL, isPendingFeedback } from "../feedback.js";
import { NOT_COMMITTED, type PendingRow, type WriteCounters } from "../queue.js";
import { DECISION_INSERT_COLUMNS, toParams } from "../rows.js";
import { checkout, numbered, storable } from "./sql.js";

const RETRY_AFTER_FAILURE_MS = 1000;
/** 23 parameters a row: well under PostgreSQL's 65,535 per statement. */
const ROWS_PER_INSERT = 1000;
const COLUMNS = DECISION_INSERT_COLUMNS.join(", ");
const WIDTH = DECISION_INSERT_COLUMNS.length;
const FEEDBACK_COLUMNS = "request_id, ts, kind, human_label, thumbs, final_model, tokens_in, tokens_out, cost_usd, note, score";
const FEEDBACK_WIDTH = 11;

interface Entry {
  row: PendingRow;
  /** Strict mode: settles when the row is committed or cannot be. */
  done?: { resolve: () => void; reject: (err: Error) => void };
}

/** SQLSTATE classes of errors caused by one row's values (data exceptions, integrity violations). */
function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

function tuples(rows: number, width: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) out.push(`(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(", ")})`);
  return out.join(", ");
}

function insertSql(rows: number): string {
  return `INSERT INTO decisions (${COLUMNS}) VALUES ${tuples(rows, WIDTH)} ON CONFLICT (request_id) DO NOTHING`;
}

function insertFeedbackSql(rows: number): string {
  return `INSERT INTO feedback (${FEEDBACK_COLUMNS}) VALUES ${tuples(rows, FEEDBACK_WIDTH)}`;
}

interface Ready {
  entry: Entry;
  params: unknown[];
}

export class PgWriteQueue {
  readonly counters: WriteCounters = { written: 0, duplicates: 0, dropped: 0, flushes: 0 };
  private pending: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private stopped = false;
  /** The flush under way: flushes run one at a time, in order. */
  private running: Promise<void> | undefined;
  private retryWritesAt = 0;

  constructor(
    private readonly where: string,
    private readonly pool: pg.Pool,
    private readonly options: ResolvedLogOptions,
    private readonly onError: (error: Error) => void,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  /** Batched: queues the row. Strict: resolves once it is committed, rejects with NOT_COMMITTED when it cannot be. */
  add(row: PendingRow): void | Promise<void> {
    if (this.options.durability === "strict") {
      if (this.pending.length >= this.options.maxPending) {
        this.lose(1, "the queue is full and the database is failing");
        const what = isPendingFeedback(row) ? `feedback for ${row.requestId}` : `decision ${String(row.decision?.requestId)}`;
        return Promise.reject(new TriageError(`decision log ${this.where}: ${what} not logged: the database is failing`, NOT_COMMITTED));
      }
      const committed = new Promise<void>((resolve, reject) => {
        this.pending.push({ row, done: { resolve, reject } });
        if (!this.immediate) this.immediate = setImmediate(() => this.backgroundFlush());
      });
      // A caller that drops the promise (a Router sink does) must not see an unhandled rejection:
      // the failure also goes to onError. A caller that awaits it still gets the rejection.
      committed.catch(() => {});
      return committed;
    }
    if (this.pending.length >= this.options.maxPending) {
      // Never block the caller: past the cap while the database fails, rows are dropped and reported.
      if (Date.now() >= this.retryWritesAt) this.backgroundFlush();
      this.lose(1, `the queue holds maxPending (${this.options.maxPending}) rows not yet written`);
      return;
    }
    const n = this.pending.push({ row });
    if (n >= this.options.batchSize) {
      if (!this.immediate) this.immediate = setImmediate(() => this.backgroundFlush()).unref();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.backgroundFlush(), this.options.flushIntervalMs).unref();
    }
  }

  /** Writes every row queued so far (after any flush under way); resolves to how many were queued. Rejects if the write fails (rows stay queued). */
  flush(): Promise<number> {
    const run = (this.running ?? Promise.resolve()).then(() => this.writePending());
    // The line the next flush waits in: settles either way, so a failure is the caller's to handle, once.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.running = settled;
    void settled.then(() => {
      if (this.running === settled) this.running = undefined;
    });
    return run;
  }

  /** No more timers: the log is closing (after its last flush). Strict rows still queued are refused. */
  stop(): void {
    this.stopped = true;
    this.cancelScheduled();
    for (const e of this.pending) e.done?.reject(new TriageError(`decision log ${this.where} is closed; decision not logged`, NOT_COMMITTED));
  }

  private async writePending(): Promise<number> {
    this.cancelScheduled();
    if (this.pending.length === 0) return 0;
    const batch = this.pending;
    this.pending = [];
    let rejected: string[];
    try {
      rejected = await this.writeBatch(batch);
    } catch (err) {
      this.retryWritesAt = Date.now() + RETRY_AFTER_FAILURE_MS;
      const message = `decision log ${this.where}: writing ${batch.length} decisions failed: ${(err as Error).message}`;
      // Strict callers learn now that their rows are not committed; batched rows go back in front (bounded) for a retry.
      const keep: Entry[] = [];
      for (const e of batch)
        if (e.done) e.done.reject(new TriageError(message, NOT_COMMITTED));
        else keep.push(e);
      const requeued = keep.concat(this.pending);
      this.pending = requeued.slice(0, this.options.maxPending);
      if (requeued.length > this.pending.length) this.lose(requeued.length - this.pending.length, "the queue is full");
      this.scheduleRetry();
      throw new TriageError(message);
    }
    this.counters.flushes++;
    this.counters.dropped += rejected.length;
    for (const why of rejected) this.onError(new TriageError(`decision log: ${why}`));
    return batch.length;
  }

  /**
   * One transaction: multi-row INSERTs, the batch's decisions before its feedback (which is about decisions
   * queued before it); a row PostgreSQL rejects sends the batch down the row-by-row path. Returns why rows were rejected.
   */
  private async writeBatch(batch: Entry[]): Promise<string[]> {
    const rejected: string[] = [];
    const ready: Ready[] = [];
    for (const entry of batch) {
      const row = entry.row;
      try {
        const params = isPendingFeedback(row) ? feedbackParams(row.requestId, row.feedback) : toParams(row, this.options.textMode, this.options.maxTextChars);
        ready.push({ entry, params: params.map(storable) });
      } catch (err) {
        const why = isPendingFeedback(row) ? feedbackRejection(row, err) : `request ${String(row.decision?.requestId)} not stored: ${(err as Error).message}`;
        rejected.push(why);
        entry.done?.reject(new TriageError(`decision log ${this.where}: ${why}`, NOT_COMMITTED));
      }
    }
    if (ready.length === 0) return rejected;
    const decisions = ready.filter((r) => !isPendingFeedback(r.entry.row));
    const feedback = ready.filter((r) => isPendingFeedback(r.entry.row));
    const client = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      let outcome: { written: number; rejectedDecisions: number };
      try {
        outcome = await this.inTransaction(client, async () => {
          const written = await this.insertChunks(client, decisions, insertSql);
          await this.insertChunks(client, feedback, insertFeedbackSql);
          return { written, rejectedDecisions: 0 };
        });
      } catch (err) {
        if (!isRowError(err)) throw err;
        outcome = await this.inTransaction(client, () => this.rowByRow(client, ready, rejected));
      }
      this.counters.written += outcome.written;
      this.counters.duplicates += decisions.length - outcome.written - outcome.rejectedDecisions;
      for (const r of ready) r.entry.done?.resolve();
      return rejected;
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Multi-row INSERTs of up to ROWS_PER_INSERT rows each; returns the rows inserted. */
  private async insertChunks(client: pg.PoolClient, rows: Ready[], sql: (rows: number) => string): Promise<number> {
    let n = 0;
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      n +=
        (
          await client.query(
            sql(chunk.length),
            chunk.flatMap((r) => r.params),
          )
        ).rowCount ?? 0;
    }
    return n;
  }

  /** Each row in queue order under a savepoint: the rejected ones are reported, the others written; counts the decisions written and rejected. */
  private async rowByRow(client: pg.PoolClient, ready: Ready[], rejected: string[]): Promise<{ written: number; rejectedDecisions: number }> {
    let written = 0;
    let rejectedDecisions = 0;
    const one = insertSql(1);
    const oneFeedback = numbered(INSERT_FEEDBACK_SQL);
    for (const r of ready) {
      const row = r.entry.row;
      await client.query("SAVEPOINT row");
      try {
        const n = (await client.query(isPendingFeedback(row) ? oneFeedback : one, r.params)).rowCount ?? 0;
        if (!isPendingFeedback(row)) written += n;
        await client.query("RELEASE SAVEPOINT row");
      } catch (err) {
        if (!isRowError(err)) throw err;
        await client.query("ROLLBACK TO SAVEPOINT row");
        const why = isPendingFeedback(row) ? feedbackRejection(row, err) : `request ${String(row.decision?.requestId)} not stored: ${(err as Error).message}`;
        rejected.push(why);
        if (!isPendingFeedback(row)) rejectedDecisions++;
        r.entry.done?.reject(new TriageError(`decision log ${this.where}: ${why}`, NOT_COMMITTED));
        r.entry.done = undefined;
      }
    }
    return { written, rejectedDecisions };
  }

  private async inTransaction<T>(client: pg.PoolClient, body: () => Promise<T>): Promise<T> {
    await client.query("BEGIN");
    try {
      // sync "normal": like SQLite's, a commit survives this process's crash but not the database server's.
      if (this.options.sync !== "full") await client.query("SET LOCAL synchronous_commit = off");
      const result = await body();
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    }
  }

  /** From a timer or add(): failures are reported, never thrown, and retried later. */
  private backgroundFlush(): void {
    this.immediate = undefined;
    this.flush().catch((err: Error) => this.onError(err));
  }

  private scheduleRetry(): void {
    if (this.pending.length && !this.stopped && !this.timer)
      this.timer = setTimeout(() => this.backgroundFlush(), Math.max(this.options.flushIntervalMs, RETRY_AFTER_FAILURE_MS)).unref();
  }

  private lose(rows: number, why: string): void {
    this.counters.dropped += rows;
    this.onError(new TriageError(`decision log ${this.where}: ${rows} decision(s) not logged: ${why}`));
  }

  private cancelScheduled(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
