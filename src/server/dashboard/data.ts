/**
 * @module
 * The dashboard's read side, opened on first use: the log's read-only connection and the in-memory facts
 * built from it. Nothing is read before someone opens the dashboard, so a server nobody looks at pays
 * nothing for it. The first build reads the newest decisions first: a page waits for it at most
 * FIRST_ANSWER_MS, then answers from what is read and says it is partial, and the live refresh fills in
 * the rest. Big logs keep their facts in a snapshot (beside a SQLite log, in the user's cache folder
 * for a PostgreSQL one), read back at the next start instead of a full scan. Overview answers are kept
 * for a second, so many open tabs polling cost one computation.
 */
import { TriageError } from "../../common/errors.js";
import { DashboardReader, type DashboardLogReader } from "../../store/dashboard-queries.js";
import type { DashboardContext } from "./context.js";
import { Facts } from "./facts.js";
import { computeOverview, tagChoices, type OverviewData, type OverviewQuery } from "./overview-data.js";
import { loadSnapshot, saveSnapshot, snapshotPathFor } from "./snapshot.js";

/** How stale the facts may be when a page asks (a refresh reads only what is new). */
const FRESH_MS = 1000;
/** How long a page waits for the first build before answering from the newest decisions read so far. */
export const FIRST_ANSWER_MS = 300;
/** Logs smaller than this rebuild their facts in well under a second: no snapshot file for them. */
const SNAPSHOT_MIN_ROWS = 50_000;
/** A new snapshot after this many new decisions, or this long after the last one when anything changed. */
const SNAPSHOT_EVERY_ROWS = 100_000;
const SNAPSHOT_EVERY_MS = 10 * 60_000;

export interface DashboardDataOptions {
  /** See FIRST_ANSWER_MS. */
  firstAnswerMs?: number;
  /** Decisions read per event-loop turn while building (default: the facts' own). */
  chunk?: number;
}

interface Opened {
  reader: DashboardLogReader;
  facts: Facts;
  identity: string;
  snapshot: string;
}

export class DashboardData {
  private opened: Opened | undefined;
  private opening: Promise<Opened> | undefined;
  private cached: { key: string; at: number; data: OverviewData } | undefined;
  private awaitingBuild = false;
  /** The dashboard's own requests in flight (counted by the app), told apart from the server's others. */
  ownRequests = 0;
  private saved = { lastId: 0, at: Date.now(), running: undefined as Promise<void> | undefined, disabled: false };

  constructor(
    private readonly ctx: DashboardContext,
    private readonly options: DashboardDataOptions = {},
  ) {}

  get hasLog(): boolean {
    return this.ctx.logPath !== null;
  }

  async reader(): Promise<DashboardLogReader> {
    return (await this.open()).reader;
  }

  /**
   * The facts, refreshed unless fresh: the first call starts building them (from the snapshot and the
   * log's tail, or from the log newest first) and waits for that at most FIRST_ANSWER_MS.
   */
  async facts(): Promise<Facts> {
    const { facts } = await this.open();
    this.ctx.flushLog?.(); // the served log batches its writes (and the proxy's feedback) for up to its flush interval
    await facts.refresh(FRESH_MS);
    if (!facts.complete && !this.awaitingBuild) {
      // The snapshot is written when the build ends, whether or not a page is open then.
      this.awaitingBuild = true;
      void facts.ready(Number.POSITIVE_INFINITY).then(() => {
        this.awaitingBuild = false;
        this.maybeSave();
      });
    }
    await facts.ready(this.options.firstAnswerMs ?? FIRST_ANSWER_MS);
    this.maybeSave();
    return facts;
  }

  async overview(q: OverviewQuery): Promise<OverviewData & { tags: Record<string, string[]> }> {
    const facts = await this.facts();
    const key = JSON.stringify([q.since, q.until, q.tag ?? null, facts.lastId, facts.lastFeedbackId, facts.size]);
    if (this.cached?.key !== key || Date.now() - this.cached.at > FRESH_MS) this.cached = { key, at: Date.now(), data: computeOverview(facts, q) };
    return { ...this.cached.data, tags: tagChoices(facts) };
  }

  /** Writes a last snapshot when the facts moved on since the previous one, then closes the connection. */
  async close(): Promise<void> {
    await this.opening?.catch(() => {});
    if (!this.opened) return;
    this.opened.facts.stop();
    await this.saved.running;
    if (this.opened.facts.lastId !== this.saved.lastId) this.save();
    await this.saved.running;
    await this.opened.reader.close();
    this.opened = undefined;
    this.opening = undefined;
  }

  /** Opens the log for reading (once; a failure is tried again at the next call). */
  open(): Promise<Opened> {
    if (this.opened) return Promise.resolve(this.opened);
    this.opening ??= this.openNow().then(
      (o) => (this.opened = o),
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  private async openNow(): Promise<Opened> {
    const { logPath } = this.ctx;
    if (logPath === null) throw new TriageError("no decision log: start the server with --log-db FILE (or log.path in its config)");
    const reader = this.ctx.openReader ? await this.ctx.openReader() : DashboardReader.open(logPath);
    try {
      return await this.restore(reader);
    } catch (err) {
      await reader.close();
      throw err;
    }
  }

  private async restore(reader: DashboardLogReader): Promise<Opened> {
    const facts = new Facts(reader, {
      prices: () => this.ctx.prices(),
      ...(this.options.chunk ? { chunk: this.options.chunk } : {}),
      onError: (err) => this.ctx.onError(new TriageError(`dashboard: reading the decision log stopped: ${err.message}`)),
      ...(this.ctx.inflight ? { busy: () => this.ctx.inflight!() > this.ownRequests } : {}),
    });
    const identity = await reader.identity();
    const snapshot = snapshotPathFor(reader);
    const state = loadSnapshot(snapshot, identity);
    // The snapshot's newest row must still be in the log as it was; else (pruned past it, another log) rebuild.
    const last = state ? state.columns.ts[state.columns.ts.length - 1] : undefined;
    if (state && last !== undefined && (await reader.tsOf(state.lastId)) === last && facts.restore(state)) this.saved.lastId = state.lastId;
    return { reader, facts, identity, snapshot };
  }

  private maybeSave(): void {
    const facts = this.opened?.facts;
    if (!facts?.complete || this.saved.disabled || this.saved.running || facts.size < SNAPSHOT_MIN_ROWS) return;
    const moved = facts.lastId - this.saved.lastId;
    // The first one right after a full build (the expensive part), then every so often.
    if (this.saved.lastId === 0 || moved >= SNAPSHOT_EVERY_ROWS || (moved > 0 && Date.now() - this.saved.at > SNAPSHOT_EVERY_MS)) this.save();
  }

  private save(): void {
    const o = this.opened;
    // A partial copy is not saved: the next start would take it for the whole log.
    if (!o?.facts.complete || this.saved.disabled || o.facts.size < SNAPSHOT_MIN_ROWS) return;
    const state = o.facts.state();
    const path = o.snapshot;
    this.saved.running = saveSnapshot(path, o.identity, state)
      .then(() => {
        this.saved.lastId = state.lastId;
        this.saved.at = Date.now();
      })
      .catch((err: unknown) => {
        // A read-only folder or a foreign file there: say so once, keep the facts in memory only.
        this.saved.disabled = true;
        this.ctx.onError(new TriageError(`dashboard: cannot keep its cache at ${path}: ${(err as Error).message}`));
      })
      .finally(() => {
        this.saved.running = undefined;
      });
  }
}
