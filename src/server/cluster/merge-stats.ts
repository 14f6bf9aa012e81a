/**
 * @module Adds up the workers' in-memory /v1/stats counters into one snapshot for the whole server.
 * Counts and spend add exactly; rates are weighted by each worker's requests; latency percentiles are
 * weighted by each worker's count, an approximation (the samples themselves stay in each worker).
 */
import { savings } from "../../config/price.js";
import type { ServerStatsSnapshot, SpendSummary } from "../proxy/stats.js";

type Snapshot = ServerStatsSnapshot;

export function mergeStats(snapshots: readonly Snapshot[]): Snapshot | undefined {
  if (snapshots.length === 0) return undefined;
  const requests = sum(snapshots.map((s) => s.requests));
  const savingsParts = snapshots.map((s) => s.savings).filter((s) => s !== null);
  const baselineUsd = sum(savingsParts.map((s) => s.baselineUsd));
  const actualUsd = sum(savingsParts.map((s) => s.actualUsd));
  return {
    since: snapshots.map((s) => s.since).sort()[0],
    requests,
    spend: {
      totalUsd: sum(snapshots.map((s) => s.spend.totalUsd)),
      byTier: mergeSpend(snapshots.map((s) => s.spend.byTier)),
      byModel: mergeSpend(snapshots.map((s) => s.spend.byModel)),
      byTag: mergeSpend(snapshots.map((s) => s.spend.byTag)),
      unpricedCalls: sum(snapshots.map((s) => s.spend.unpricedCalls)),
    },
    savings:
      savingsParts.length > 0 && baselineUsd > 0
        ? {
            baselineTier: savingsParts[0].baselineTier,
            baselineUsd,
            actualUsd,
            ...savings(baselineUsd, actualUsd),
          }
        : null,
    rates: {
      escalation: weightedRate(snapshots, (s) => s.rates.escalation),
      providerFailover: weightedRate(snapshots, (s) => s.rates.providerFailover),
      classifierFallback: weightedRate(snapshots, (s) => s.rates.classifierFallback),
    },
    latencyMs: mergeLatency(snapshots.map((s) => s.latencyMs)),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mergeSpend(parts: readonly Record<string, SpendSummary>[]): Record<string, SpendSummary> {
  const out: Record<string, SpendSummary> = {};
  for (const part of parts)
    for (const [key, s] of Object.entries(part)) {
      const into = (out[key] ??= { usd: 0, calls: 0 });
      into.usd += s.usd;
      into.calls += s.calls;
    }
  return out;
}

/** A rate over all requests: each worker's rate times its requests (its count of events), summed, over the total. */
function weightedRate(snapshots: readonly Snapshot[], rate: (s: Snapshot) => number | null): number | null {
  const requests = sum(snapshots.map((s) => s.requests));
  if (requests === 0) return null;
  return sum(snapshots.map((s) => (rate(s) ?? 0) * s.requests)) / requests;
}

function mergeLatency(parts: readonly Snapshot["latencyMs"][]): Snapshot["latencyMs"] {
  const out: Snapshot["latencyMs"] = {};
  const tiers = new Set(parts.flatMap((p) => Object.keys(p)));
  for (const tier of tiers) {
    const entries = parts.map((p) => p[tier]).filter((e) => e !== undefined);
    const count = sum(entries.map((e) => e.count));
    const weighted = (pick: (e: (typeof entries)[number]) => number | null) => {
      const known = entries.filter((e) => pick(e) !== null);
      const weight = sum(known.map((e) => e.count));
      return weight > 0 ? sum(known.map((e) => (pick(e) ?? 0) * e.count)) / weight : null;
    };
    out[tier] = { count, p50: weighted((e) => e.p50), p95: weighted((e) => e.p95) };
  }
  return out;
}
