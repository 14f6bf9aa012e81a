/**
 * Spend and latency since the server started, kept in memory: /v1/stats answers without scanning the log.
 * (With a decision log, /v1/stats also includes the log's own all-time stats.)
 */
import { latencySummary, RecentSamples } from "../../common/stats.js";
import { savings, tokenCostUsd } from "../../config/price.js";
import type { Price } from "../../config/schema.js";

const LATENCY_SAMPLES = 2048;

export interface CallRecord {
  tier: string;
  model: string;
  tags?: Record<string, string>;
  costUsd?: number;
  tokensIn?: number;
  tokensOut?: number;
}

export interface RequestRecord {
  /** The tier that finally answered. */
  tier: string;
  latencyMs: number;
  escalated: boolean;
  /** The upstream provider failed over at least once. */
  failover: boolean;
  /** The LLM classifier was asked for the routing decision. */
  classifierFallback: boolean;
}

export interface SpendSummary {
  usd: number;
  calls: number;
}

export interface ServerStatsSnapshot {
  since: string;
  requests: number;
  spend: {
    totalUsd: number;
    byTier: Record<string, SpendSummary>;
    byModel: Record<string, SpendSummary>;
    /** Keyed "tag=value". */
    byTag: Record<string, SpendSummary>;
    /** Calls whose cost is unknown (no usage.cost, no tokens, or no price). */
    unpricedCalls: number;
  };
  /** Against sending each answered request once to the most expensive tier, with the same tokens. */
  savings: { baselineTier: string; baselineUsd: number; actualUsd: number; savingsUsd: number; savingsRate: number | null } | null;
  rates: { escalation: number | null; providerFailover: number | null; classifierFallback: number | null };
  latencyMs: Record<string, { count: number; p50: number | null; p95: number | null }>;
}

export class ServerStats {
  private readonly started = new Date();
  private requests = 0;
  private escalated = 0;
  private failovers = 0;
  private classifierFallbacks = 0;
  private totalUsd = 0;
  private unpriced = 0;
  private baselineUsd = 0;
  private comparedUsd = 0;
  private readonly byTier = new Map<string, SpendSummary>();
  private readonly byModel = new Map<string, SpendSummary>();
  private readonly byTag = new Map<string, SpendSummary>();
  private readonly latency = new Map<string, { count: number; samples: RecentSamples }>();

  /** @param baseline the most expensive tier and its price, when prices are known */
  constructor(private readonly baseline?: { tier: string; price: Price }) {}

  recordCall(call: CallRecord): void {
    if (call.costUsd === undefined) {
      this.unpriced++;
      return;
    }
    this.totalUsd += call.costUsd;
    add(this.byTier, call.tier, call.costUsd);
    add(this.byModel, call.model, call.costUsd);
    for (const [k, v] of Object.entries(call.tags ?? {})) add(this.byTag, `${k}=${v}`, call.costUsd);
  }

  /** @param calls every upstream call made for the request (escalations included), last one answering */
  recordRequest(request: RequestRecord, calls: readonly CallRecord[] = []): void {
    this.requests++;
    if (request.escalated) this.escalated++;
    if (request.failover) this.failovers++;
    if (request.classifierFallback) this.classifierFallbacks++;
    let entry = this.latency.get(request.tier);
    if (!entry) this.latency.set(request.tier, (entry = { count: 0, samples: new RecentSamples(LATENCY_SAMPLES) }));
    entry.count++;
    // Recent samples only bound memory; percentiles describe recent traffic.
    entry.samples.add(request.latencyMs);
    const last = calls[calls.length - 1];
    if (this.baseline && last && calls.every((c) => c.costUsd !== undefined) && (last.tokensIn !== undefined || last.tokensOut !== undefined)) {
      this.comparedUsd += calls.reduce((s, c) => s + (c.costUsd ?? 0), 0);
      this.baselineUsd += tokenCostUsd(this.baseline.price, last.tokensIn ?? 0, last.tokensOut ?? 0);
    }
  }

  snapshot(): ServerStatsSnapshot {
    const rate = (n: number) => (this.requests > 0 ? n / this.requests : null);
    const latencyMs: ServerStatsSnapshot["latencyMs"] = {};
    for (const [tier, e] of this.latency) latencyMs[tier] = { count: e.count, ...latencySummary(e.samples.values()) };
    return {
      since: this.started.toISOString(),
      requests: this.requests,
      spend: {
        totalUsd: this.totalUsd,
        byTier: Object.fromEntries(this.byTier),
        byModel: Object.fromEntries(this.byModel),
        byTag: Object.fromEntries(this.byTag),
        unpricedCalls: this.unpriced,
      },
      savings:
        this.baseline && this.baselineUsd > 0
          ? {
              baselineTier: this.baseline.tier,
              baselineUsd: this.baselineUsd,
              actualUsd: this.comparedUsd,
              ...savings(this.baselineUsd, this.comparedUsd),
            }
          : null,
      rates: { escalation: rate(this.escalated), providerFailover: rate(this.failovers), classifierFallback: rate(this.classifierFallbacks) },
      latencyMs,
    };
  }
}

function add(map: Map<string, SpendSummary>, key: string, usd: number): void {
  const s = map.get(key) ?? { usd: 0, calls: 0 };
  s.usd += usd;
  s.calls++;
  map.set(key, s);
}
