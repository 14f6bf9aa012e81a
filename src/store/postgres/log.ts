/**
 * @module The decision log in PostgreSQL: the same DecisionStore as the SQLite file (log.ts), the same
 * tables, schema versions and queries, over a small `pg` pool. Writes queue in memory and go out as
 * multi-row INSERTs (queue.ts); reads flush the queue first, as SQLite's do, so a caller reads what it
 * logged. Queued rows are written by close(); a process that ends without it loses at most them.
 */
import pg from "pg";
import { TriageError } from "../../common/errors.js";
import { formatZodError } from "../../config/load.js";
import type { Decision } from "../../router/types.js";
import type { Durability } from "../durability.js";
import { exportDecisions, type ExportFormat } from "../export.js";
import { parseFeedback, pendingFeedback } from "../feedback.js";
import { checkLimit } from "../filters.js";
import { redactUrl } from "../location.js";
import { logOptionsSchema, type DecisionLogOptions, type ResolvedLogOptions } from "../options.js";
import { checkPruneOptions, type PruneOptions } from "../prune.js";
import type { WriteCounters } from "../queue.js";
import type { PendingDecision } from "../rows.js";
import { LATEST_SCHEMA_VERSION } from "../schema.js";
import type { StatsOptions } from "../stats.js";
import type { DecisionStore } from "../store.js";
import { keepText } from "../text.js";
import type { DecisionFilters, FeedbackInput, LogStats, LoggedDecision, TextMode } from "../types.js";
import { PgDashboardReader } from "./dashboard-queries.js";
import { PgWriteQueue } from "./queue.js";
import { countPg, deleteFeedbackPg, insertFeedbackPg, prunePg, readPagePg, statsPg } from "./reads.js";
import { inspectPgLog, migratePg } from "./schema.js";
import { checkout, pgDecisionColumns, types } from "./sql.js";

/** Connections per log: one flush at a time writes, the rest serve reads. */
const POOL_SIZE = 4;
const CONNECT_TIMEOUT_MS = 5000;

export class PgDecisionLog implements DecisionStore {
  readonly kind = "postgres";
  readonly textMode: TextMode;
  readonly durability: Durability;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Feedback writes under way: close() lets them finish before it ends the pool. */
  private readonly writing = new Set<Promise<unknown>>();
  private readonly queue: PgWriteQueue | undefined;
  private readonly columns: string;

  private constructor(
    /** The URL without its password. */
    readonly path: string,
    /** The URL as given, for the dashboard's own connections. */
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly options: ResolvedLogOptions,
    schemaVersion: number,
    onError: (error: Error) => void,
  ) {
    this.textMode = options.textMode;
    this.durability = options.durability;
    this.columns = pgDecisionColumns(schemaVersion);
    this.queue = options.readonly ? undefined : new PgWriteQueue(path, pool, options, onError);
  }

  /**
   * Connects, then migrates the log (read-only: checks it exists). A bad URL, an unreachable server, a
   * database that holds something else, or a newer schema is a one-line TriageError naming the URL
   * without its password.
   */
  static async open(url: string, options: DecisionLogOptions = {}): Promise<PgDecisionLog> {
    const { onError, ...rest } = options;
    const parsed = logOptionsSchema.safeParse(rest);
    if (!parsed.success) throw new TriageError(`decision log options: ${formatZodError(parsed.error)}`);
    const opts = parsed.data;
    const where = redactUrl(url);
    try {
      new URL(url);
    } catch {
      throw new TriageError(`decision log ${where}: not a valid postgres:// URL`);
    }
    const report = onError ?? ((e: Error) => process.emitWarning(e.message, "TriageDecisionLog"));
    const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, allowExitOnIdle: true, types });
    // An idle connection the server drops must not end the process; the next query reconnects.
    pool.on("error", (err) => report(new TriageError(`decision log ${where}: ${err.message}`)));
    let version: number;
    try {
      const client = await checkout(pool).catch((err: Error) => {
        throw new TriageError(`decision log ${where}: cannot connect: ${err.message || (err as { code?: string }).code || String(err)}`);
      });
      try {
        version = opts.readonly ? await inspectPgLog(client, where) : await migratePg(client, where);
      } finally {
        client.release();
      }
      if (version === 0) throw new TriageError(`${where}: no decision log there`);
    } catch (err) {
      await pool.end().catch(() => {});
      if (err instanceof TriageError) throw err;
      throw new TriageError(`decision log ${where}: ${(err as Error).message}`);
    }
    return new PgDecisionLog(where, url, pool, opts, version, report);
  }

  log(decision: Decision, text: string, tags?: Record<string, string>): void | Promise<void> {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    if (!this.queue) throw new TriageError(`decision log ${this.path} was opened read-only`);
    const row: PendingDecision = { ts: Date.now(), decision, text, tags };
    if (typeof text === "string" && text.length > this.options.maxTextChars) {
      row.kept = keepText(text, this.textMode, this.options.maxTextChars);
      row.text = "";
    }
    return this.queue.add(row);
  }

  get counters(): WriteCounters {
    return this.queue?.counters ?? { written: 0, duplicates: 0, dropped: 0, flushes: 0 };
  }

  get pendingCount(): number {
    return this.queue?.size ?? 0;
  }

  async flush(): Promise<number> {
    return (await this.queue?.flush()) ?? 0;
  }

  /** Writes the queued rows, then closes the pool; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.queue?.flush();
      } finally {
        this.closed = true;
        this.queue?.stop();
        await Promise.allSettled(this.writing);
        await this.pool.end();
      }
    })();
    return this.closing;
  }

  /** The dashboard's reads of this log, on a read-only pool of their own (closed by the reader's close()). */
  dashboardReader(onError?: (error: Error) => void): Promise<PgDashboardReader> {
    return PgDashboardReader.open(this.url, onError);
  }

  async feedback(requestId: string, input: FeedbackInput): Promise<number> {
    this.assertWritable();
    const f = parseFeedback(requestId, input);
    const write = this.flush().then(() => insertFeedbackPg(this.pool, this.path, requestId, f));
    this.writing.add(write);
    try {
      return await write;
    } finally {
      this.writing.delete(write);
    }
  }

  queueFeedback(requestId: string, input: FeedbackInput): void | Promise<void> {
    this.assertWritable();
    if (!this.queue) throw new TriageError(`decision log ${this.path} was opened read-only`);
    return this.queue.add(pendingFeedback(requestId, input));
  }

  async deleteFeedback(id: number): Promise<void> {
    this.assertWritable();
    await deleteFeedbackPg(this.pool, this.path, id);
  }

  query(filters: DecisionFilters = {}): Promise<LoggedDecision[]> {
    return this.page(filters, checkLimit(filters.limit));
  }

  async count(filters: Omit<DecisionFilters, "limit" | "order"> = {}): Promise<number> {
    await this.flushIfWritable();
    return countPg(this.pool, filters);
  }

  /** Matching decisions page by page (keyset pagination on id). */
  async *rows(filters: DecisionFilters = {}, pageSize = 1000): AsyncGenerator<LoggedDecision, void, undefined> {
    const limit = checkLimit(filters.limit) ?? Infinity;
    let seen = 0;
    let cursor: number | undefined;
    while (seen < limit) {
      const page = await this.page(filters, Math.min(pageSize, limit - seen), cursor);
      if (page.length === 0) return;
      yield* page;
      seen += page.length;
      cursor = page[page.length - 1].id;
    }
  }

  export(filters: DecisionFilters, format: ExportFormat, out: NodeJS.WritableStream): Promise<number> {
    return exportDecisions(this.rows(filters), format, out);
  }

  async stats(options: StatsOptions = {}): Promise<LogStats> {
    await this.flushIfWritable();
    return statsPg(this.pool, options);
  }

  async prune(options: PruneOptions): Promise<number> {
    this.assertWritable();
    checkPruneOptions(options);
    await this.flush();
    return prunePg(this.pool, options);
  }

  private async page(filters: DecisionFilters, limit: number | undefined, cursor?: number): Promise<LoggedDecision[]> {
    await this.flushIfWritable();
    return readPagePg(this.pool, this.columns, filters, limit, cursor);
  }

  private async flushIfWritable(): Promise<void> {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    await this.queue?.flush();
  }

  private assertWritable(): void {
    if (this.closed) throw new TriageError(`decision log ${this.path} is closed`);
    if (this.options.readonly) throw new TriageError(`decision log ${this.path} was opened read-only`);
  }
}

export { LATEST_SCHEMA_VERSION };
