/**
 * @module `stats()` of a decision log: the SQL that reads decisions and outcome calls (SQLite here; the
 * PostgreSQL store reads the same columns), and the tallies that turn those rows into LogStats, shared
 * by both stores so they report the same figures.
 */
import type Database from "better-sqlite3";
import { latencySummary } from "../common/stats.js";
import { callCostUsd, mostExpensive, savings, tokenCostUsd, type TokenPrice } from "../config/price.js";
import { buildWhere } from "./filters.js";
import type { CostSummary, FeedbackKind, LogStats, PriceTable } from "./types.js";

export interface StatsOptions {
  since?: number;
  until?: number;
  /** USD per 1M tokens by label (tier) or model name; enables costs from tokens and the savings baseline. */
  prices?: PriceTable;
}

/** label, latency_ms, low_confidence, fallback_used, fallback_label, model_label, escalated (0/1). */
export type StatsDecisionRow = [string, number | null, number, number, string | null, string, number];
/** request_id, label, final_model, tokens_in, tokens_out, cost_usd; ordered by request, then feedback id. */
export type StatsCallRow = [string, string, string | null, number | null, number | null, number | null];

/** Selects StatsDecisionRow columns; the caller appends its WHERE clause. */
export const STATS_DECISIONS_SQL = `SELECT d.label, d.latency_ms, d.low_confidence, d.fallback_used, d.fallback_label, d.model_label,
  CASE WHEN EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id AND f.kind = 'escalated') THEN 1 ELSE 0 END AS escalated
  FROM decisions d`;

/** Feedback counts per kind: `kind`, `n`. */
export const statsFeedbackSql = (whereSql: string) => `SELECT f.kind, COUNT(*) AS n FROM feedback f JOIN decisions d ON d.request_id = f.request_id ${whereSql} GROUP BY f.kind`;

/** Calls with a cost or tokens, as StatsCallRow columns. */
export const statsCallsSql = (whereSql: string) => `SELECT f.request_id, d.label, f.final_model, f.tokens_in, f.tokens_out, f.cost_usd
  FROM feedback f JOIN decisions d ON d.request_id = f.request_id
  ${whereSql ? `${whereSql} AND` : "WHERE"} (f.cost_usd IS NOT NULL OR f.tokens_in IS NOT NULL OR f.tokens_out IS NOT NULL)
  ORDER BY f.request_id, f.id`;

export function computeStats(db: Database.Database, options: StatsOptions): LogStats {
  const where = buildWhere({ since: options.since, until: options.until });
  const tally = new DecisionTally();
  for (const row of db
    .prepare(`${STATS_DECISIONS_SQL} ${where.sql}`)
    .raw()
    .iterate(...where.params) as IterableIterator<StatsDecisionRow>)
    tally.add(row);
  const feedback = db.prepare(statsFeedbackSql(where.sql)).all(...where.params) as Array<{ kind: FeedbackKind; n: number }>;
  const cost = new CostTally(options.prices);
  for (const row of db
    .prepare(statsCallsSql(where.sql))
    .raw()
    .iterate(...where.params) as IterableIterator<StatsCallRow>)
    cost.add(row);
  return tally.result(feedback, cost.result());
}

/** Counts, rates and latency percentiles over decisions, one row at a time. */
export class DecisionTally {
  private count = 0;
  private lowConfidence = 0;
  private fallbackUsed = 0;
  private fallbackAnswered = 0;
  private fallbackAgreed = 0;
  private escalated = 0;
  private readonly all: number[] = [];
  private readonly byLabel = new Map<string, number[]>();
  private readonly countByLabel = new Map<string, number>();

  add([label, latency, low, fb, fbLabel, modelLabel, esc]: StatsDecisionRow): void {
    this.count++;
    this.countByLabel.set(label, (this.countByLabel.get(label) ?? 0) + 1);
    if (latency !== null) {
      this.all.push(latency);
      let list = this.byLabel.get(label);
      if (!list) this.byLabel.set(label, (list = []));
      list.push(latency);
    }
    this.lowConfidence += low;
    this.fallbackUsed += fb;
    if (fbLabel !== null) {
      this.fallbackAnswered++;
      if (fbLabel === modelLabel) this.fallbackAgreed++;
    }
    this.escalated += esc;
  }

  result(feedbackCounts: Iterable<{ kind: FeedbackKind; n: number }>, cost: CostSummary): LogStats {
    const { count } = this;
    const labels: LogStats["labels"] = {};
    for (const [label, n] of [...this.countByLabel].sort((a, b) => b[1] - a[1]))
      labels[label] = { count: n, share: n / count, latencyMs: latencySummary(this.byLabel.get(label) ?? []) };
    const feedback: Record<FeedbackKind, number> = { label: 0, thumbs: 0, escalated: 0, outcome: 0, score: 0 };
    for (const r of feedbackCounts) feedback[r.kind] = Number(r.n);
    const rate = (n: number, of: number) => (of > 0 ? n / of : null);
    return {
      count,
      labels,
      latencyMs: latencySummary(this.all),
      lowConfidenceRate: rate(this.lowConfidence, count),
      fallbackRate: rate(this.fallbackUsed, count),
      fallbackAgreement: rate(this.fallbackAgreed, this.fallbackAnswered),
      fallbackFailures: this.fallbackUsed - this.fallbackAnswered,
      escalationRate: rate(this.escalated, count),
      feedback,
      cost,
    };
  }
}

/**
 * Each feedback row carrying cost_usd or tokens is one LLM call made for its request. A call costs its
 * cost_usd, else its tokens at the price of its final model (or, failing that, of the decision's label).
 * The baseline sends the request once to the most expensive tier (highest input + output price), using
 * the tokens of the request's last call; savings compare both on the requests where both are known.
 * Rows must come grouped by request (ORDER BY request_id, id).
 */
export class CostTally {
  private readonly top: { key: string; price: TokenPrice } | undefined;
  private requests = 0;
  private totalUsd = 0;
  private unpricedCalls = 0;
  private compared = 0;
  private comparedActual = 0;
  private comparedBaseline = 0;
  private current: string | undefined;
  private actual = 0;
  private allKnown = true;
  private anyKnown = false;
  private lastTokens: [number, number] | undefined;

  constructor(private readonly prices: PriceTable = {}) {
    this.top = mostExpensive(Object.entries(prices));
  }

  add([requestId, label, finalModel, tokensIn, tokensOut, costUsd]: StatsCallRow): void {
    if (requestId !== this.current) {
      this.finishRequest();
      this.current = requestId;
      this.actual = 0;
      this.allKnown = true;
      this.anyKnown = false;
      this.lastTokens = undefined;
    }
    if (tokensIn !== null || tokensOut !== null) this.lastTokens = [tokensIn ?? 0, tokensOut ?? 0];
    const price = (finalModel !== null ? this.prices[finalModel] : undefined) ?? this.prices[label];
    const cost = callCostUsd({ costUsd: costUsd ?? undefined, tokensIn: tokensIn ?? undefined, tokensOut: tokensOut ?? undefined }, price);
    if (cost === undefined) {
      this.unpricedCalls++;
      this.allKnown = false;
      return;
    }
    this.anyKnown = true;
    this.actual += cost;
    this.totalUsd += cost;
  }

  result(): CostSummary {
    this.finishRequest();
    this.current = undefined;
    const { top, compared, comparedActual, comparedBaseline } = this;
    const baseline =
      top && compared > 0 ? { label: top.key, requests: compared, actualUsd: comparedActual, baselineUsd: comparedBaseline, ...savings(comparedBaseline, comparedActual) } : null;
    return { requests: this.requests, totalUsd: this.totalUsd, unpricedCalls: this.unpricedCalls, baseline };
  }

  private finishRequest(): void {
    if (this.current === undefined) return;
    if (this.anyKnown) this.requests++;
    if (this.top && this.allKnown && this.lastTokens) {
      this.compared++;
      this.comparedActual += this.actual;
      this.comparedBaseline += tokenCostUsd(this.top.price, this.lastTokens[0], this.lastTokens[1]);
    }
  }
}
