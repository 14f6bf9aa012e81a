/**
 * @module
 * The dashboard's read side, opened on first use: the log's read-only connection and the in-memory facts
 * built from it. Nothing is read before someone opens the dashboard, so a server nobody looks at pays
 * nothing for it. Overview answers are kept for a second, so many open tabs polling cost one computation.
 */
import { TriageError } from "../../common/errors.js";
import { DashboardReader } from "../../store/dashboard-queries.js";
import type { DashboardContext } from "./context.js";
import { Facts } from "./facts.js";
import { computeOverview, tagChoices, type OverviewData, type OverviewQuery } from "./overview-data.js";

/** How stale the facts may be when a page asks (a refresh reads only what is new). */
const FRESH_MS = 1000;

export class DashboardData {
  private opened: { reader: DashboardReader; facts: Facts } | undefined;
  private cached: { key: string; at: number; data: OverviewData } | undefined;

  constructor(private readonly ctx: DashboardContext) {}

  get hasLog(): boolean {
    return this.ctx.logPath !== null;
  }

  reader(): DashboardReader {
    return this.open().reader;
  }

  /** The facts, refreshed unless fresh: the first call builds them from the whole log (in yielding chunks). */
  async facts(): Promise<Facts> {
    const { facts } = this.open();
    await facts.refresh(FRESH_MS);
    return facts;
  }

  async overview(q: OverviewQuery): Promise<OverviewData & { tags: Record<string, string[]> }> {
    const facts = await this.facts();
    const key = JSON.stringify([q.since, q.until, q.tag ?? null, facts.lastId, facts.lastFeedbackId]);
    if (this.cached?.key !== key || Date.now() - this.cached.at > FRESH_MS) this.cached = { key, at: Date.now(), data: computeOverview(facts, q) };
    return { ...this.cached.data, tags: tagChoices(facts) };
  }

  close(): void {
    this.opened?.reader.close();
    this.opened = undefined;
  }

  private open(): { reader: DashboardReader; facts: Facts } {
    if (this.opened) return this.opened;
    if (this.ctx.logPath === null) throw new TriageError("no decision log: start the server with --log-db FILE (or log.path in its config)");
    const reader = DashboardReader.open(this.ctx.logPath);
    this.opened = { reader, facts: new Facts(reader, { prices: () => this.ctx.prices() }) };
    return this.opened;
  }
}
