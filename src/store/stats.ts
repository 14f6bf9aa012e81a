import type Database from "better-sqlite3";
import { latencySummary } from "../common/stats.js";
import { callCostUsd, mostExpensive, savings, tokenCostUsd } from "../config/price.js";
import { buildWhere } from "./filters.js";
import type { CostSummary, FeedbackKind, LatencySummary, LogStats, PriceTable } from "./types.js";

export interface StatsOptions {
  since?: number;
  until?: number;
  /** USD per 1M tokens by label (tier) or model name; enables costs from tokens and the savings baseline. */
  prices?: PriceTable;
}

export function computeStats(db: Database.Database, options: StatsOptions): LogStats {
  const where = buildWhere({ since: options.since, until: options.until });
  const rows = db
    .prepare(
      `SELECT d.label, d.latency_ms, d.low_confidence, d.fallback_used, d.fallback_label, d.model_label,
         EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id AND f.kind = 'escalated') AS escalated
       FROM decisions d ${where.sql}`,
    )
    .raw()
    .iterate(...where.params) as IterableIterator<[string, number | null, number, number, string | null, string, number]>;

  let count = 0;
  let lowConfidence = 0;
  let fallbackUsed = 0;
  let fallbackAnswered = 0;
  let fallbackAgreed = 0;
  let escalated = 0;
  const all: number[] = [];
  const byLabel = new Map<string, number[]>();
  const countByLabel = new Map<string, number>();
  for (const [label, latency, low, fb, fbLabel, modelLabel, esc] of rows) {
    count++;
    countByLabel.set(label, (countByLabel.get(label) ?? 0) + 1);
    if (latency !== null) {
      all.push(latency);
      let list = byLabel.get(label);
      if (!list) byLabel.set(label, (list = []));
      list.push(latency);
    }
    lowConfidence += low;
    fallbackUsed += fb;
    if (fbLabel !== null) {
      fallbackAnswered++;
      if (fbLabel === modelLabel) fallbackAgreed++;
    }
    escalated += esc;
  }

  const labels: LogStats["labels"] = {};
  for (const [label, n] of [...countByLabel].sort((a, b) => b[1] - a[1])) labels[label] = { count: n, share: n / count, latencyMs: summarize(byLabel.get(label) ?? []) };

  const feedback: Record<FeedbackKind, number> = { label: 0, thumbs: 0, escalated: 0, outcome: 0, score: 0 };
  const fbRows = db
    .prepare(`SELECT f.kind, COUNT(*) AS n FROM feedback f JOIN decisions d ON d.request_id = f.request_id ${where.sql} GROUP BY f.kind`)
    .all(...where.params) as Array<{ kind: FeedbackKind; n: number }>;
  for (const r of fbRows) feedback[r.kind] = r.n;

  const rate = (n: number, of: number) => (of > 0 ? n / of : null);
  return {
    count,
    labels,
    latencyMs: summarize(all),
    lowConfidenceRate: rate(lowConfidence, count),
    fallbackRate: rate(fallbackUsed, count),
    fallbackAgreement: rate(fallbackAgreed, fallbackAnswered),
    fallbackFailures: fallbackUsed - fallbackAnswered,
    escalationRate: rate(escalated, count),
    feedback,
    cost: computeCost(db, where.sql, where.params, options.prices),
  };
}

function summarize(values: number[]): LatencySummary {
  return latencySummary(values);
}

/**
 * Each feedback row carrying cost_usd or tokens is one LLM call made for its request. A call costs its
 * cost_usd, else its tokens at the price of its final model (or, failing that, of the decision's label).
 * The baseline sends the request once to the most expensive tier (highest input + output price), using
 * the tokens of the request's last call; savings compare both on the requests where both are known.
 */
function computeCost(db: Database.Database, whereSql: string, params: Array<string | number>, prices: PriceTable = {}): CostSummary {
  const calls = db
    .prepare(
      `SELECT f.request_id, d.label, f.final_model, f.tokens_in, f.tokens_out, f.cost_usd
       FROM feedback f JOIN decisions d ON d.request_id = f.request_id
       ${whereSql ? `${whereSql} AND` : "WHERE"} (f.cost_usd IS NOT NULL OR f.tokens_in IS NOT NULL OR f.tokens_out IS NOT NULL)
       ORDER BY f.request_id, f.id`,
    )
    .raw()
    .iterate(...params) as IterableIterator<[string, string, string | null, number | null, number | null, number | null]>;

  const top = mostExpensive(Object.entries(prices));
  let requests = 0;
  let totalUsd = 0;
  let unpricedCalls = 0;
  let compared = 0;
  let comparedActual = 0;
  let comparedBaseline = 0;

  let current: string | undefined;
  let actual = 0;
  let allKnown = true;
  let anyKnown = false;
  let lastTokens: [number, number] | undefined;
  const finish = () => {
    if (current === undefined) return;
    if (anyKnown) requests++;
    if (top && allKnown && lastTokens) {
      compared++;
      comparedActual += actual;
      comparedBaseline += tokenCostUsd(top.price, lastTokens[0], lastTokens[1]);
    }
  };
  for (const [requestId, label, finalModel, tokensIn, tokensOut, costUsd] of calls) {
    if (requestId !== current) {
      finish();
      current = requestId;
      actual = 0;
      allKnown = true;
      anyKnown = false;
      lastTokens = undefined;
    }
    const hasTokens = tokensIn !== null || tokensOut !== null;
    if (hasTokens) lastTokens = [tokensIn ?? 0, tokensOut ?? 0];
    const price = (finalModel !== null ? prices[finalModel] : undefined) ?? prices[label];
    const cost = callCostUsd({ costUsd: costUsd ?? undefined, tokensIn: tokensIn ?? undefined, tokensOut: tokensOut ?? undefined }, price);
    if (cost === undefined) {
      unpricedCalls++;
      allKnown = false;
      continue;
    }
    anyKnown = true;
    actual += cost;
    totalUsd += cost;
  }
  finish();

  const baseline =
    top && compared > 0
      ? {
          label: top.key,
          requests: compared,
          actualUsd: comparedActual,
          baselineUsd: comparedBaseline,
          ...savings(comparedBaseline, comparedActual),
        }
      : null;
  return { requests, totalUsd, unpricedCalls, baseline };
}
