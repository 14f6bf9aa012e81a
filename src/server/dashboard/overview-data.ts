/**
 * @module
 * The overview's numbers for one time range and caller tag, computed from the in-memory facts: requests
 * over time by tier, escalation / fallback / low-confidence rates against the thresholds the project
 * watches (under 10 % good, over 20 % means the classifier is wrong), spend and savings per day against
 * always using the most expensive tier, and latency percentiles by tier and by stage.
 */
import { BITS, binLatency, LATENCY_BINS, NO_LATENCY, STAGES, type BuildProgress, type Facts } from "./facts.js";

/** Under `good` a rate is fine; over `bad` the classifier is wrong (the seeds' 10 % / 20 %). */
export const RATE_THRESHOLDS = { good: 0.1, bad: 0.2 } as const;
export type RateFlag = "good" | "watch" | "bad" | "none";

export interface TagFilter {
  key: string;
  value: string;
}

export interface OverviewQuery {
  since: number;
  until: number;
  tag?: TagFilter;
  /** Tier order (the model's labels); labels not in it follow by volume. */
  labels?: readonly string[];
}

export interface LatencyRow {
  name: string;
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Rate {
  value: number | null;
  count: number;
  flag: RateFlag;
}

export interface OverviewData {
  since: number;
  until: number;
  bucketMs: number;
  /**
   * Decisions in memory (the overview cannot see further back than `oldest`); `loading` while the first
   * build is still reading older decisions (the numbers are then partial), else null; `capped` when the
   * memory cap (the newest 2,000,000 decisions) left older ones out.
   */
  covered: { rows: number; oldest: number | null; loading: BuildProgress | null; capped: boolean };
  totals: {
    requests: number;
    spendUsd: number;
    /** Requests with a known cost, and those whose savings could be measured (every call priced, tokens known). */
    pricedRequests: number;
    compared: number;
    baselineUsd: number;
    savingsUsd: number;
    savingsRate: number | null;
    escalation: Rate;
    fallback: Rate;
    lowConfidence: Rate;
  };
  /** Bucket starts in seconds (uPlot's x), requests per tier, and the three rates per bucket (null: no requests). */
  series: { t: number[]; tiers: { name: string; counts: number[] }[]; escalation: (number | null)[]; fallback: (number | null)[]; lowConfidence: (number | null)[] };
  /** Per UTC day: spend, baseline and savings on the compared requests, and spend on all. */
  daily: { t: number[]; spendUsd: number[]; baselineUsd: number[]; comparedSpendUsd: number[] };
  latency: { byTier: LatencyRow[]; byStage: LatencyRow[] };
}

const BUCKETS_MS = [60_000, 300_000, 900_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000];
const DAY = 86_400_000;
/** At most about this many points per time series. */
const MAX_POINTS = 150;

export function bucketFor(spanMs: number): number {
  return BUCKETS_MS.find((b) => spanMs / b <= MAX_POINTS) ?? BUCKETS_MS[BUCKETS_MS.length - 1];
}

export function flagOf(value: number | null): RateFlag {
  if (value === null) return "none";
  return value > RATE_THRESHOLDS.bad ? "bad" : value >= RATE_THRESHOLDS.good ? "watch" : "good";
}

/** Which tag sets carry `tag` (by tag set id). */
export function tagMatcher(facts: Facts, tag: TagFilter | undefined): Uint8Array | null {
  if (!tag) return null;
  const match = new Uint8Array(facts.tagsets.values.length);
  facts.tagsets.values.forEach((json, id) => {
    if (json === "") return;
    const tags = parseTags(json);
    if (tags?.[tag.key] === tag.value) match[id] = 1;
  });
  return match;
}

export function parseTags(json: string): Record<string, string> | null {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === "object" ? (v as Record<string, string>) : null;
  } catch {
    return null;
  }
}

export function computeOverview(facts: Facts, q: OverviewQuery): OverviewData {
  const bucketMs = bucketFor(q.until - q.since);
  const first = Math.floor(q.since / bucketMs) * bucketMs;
  const nBuckets = Math.max(1, Math.ceil((q.until - first) / bucketMs));
  const firstDay = Math.floor(q.since / DAY) * DAY;
  const nDays = Math.max(1, Math.ceil((q.until - firstDay) / DAY));
  const L = facts.labels.values.length;
  const perLabel = Array.from({ length: L }, () => new Float64Array(nBuckets));
  const total = new Float64Array(nBuckets);
  const low = new Float64Array(nBuckets);
  const fb = new Float64Array(nBuckets);
  const esc = new Float64Array(nBuckets);
  const spend = new Float64Array(nDays);
  const base = new Float64Array(nDays);
  const comparedSpend = new Float64Array(nDays);
  const match = tagMatcher(facts, q.tag);
  const labelN = new Float64Array(L);
  let requests = 0;
  let priced = 0;
  let compared = 0;
  let spendAll = 0;
  let baseAll = 0;
  let comparedAll = 0;

  const labelHist = Array.from({ length: L }, () => new Uint32Array(LATENCY_BINS.count));
  const stageHist = Array.from({ length: STAGES.length + 1 }, () => new Uint32Array(LATENCY_BINS.count));
  const from = facts.lowerBound(q.since);
  const to = facts.lowerBound(q.until);
  const { ts, packed, tagset, cost, baseline, latencyBin } = facts;
  for (let i = from; i < to; i++) {
    if (match && !match[tagset[i]]) continue;
    const b = Math.floor((ts[i] - first) / bucketMs);
    // ts follows id order as log() stamps it; a row from a clock that stepped back is left out, not misplaced.
    if (ts[i] < q.since || ts[i] >= q.until) continue;
    const p = packed[i];
    const label = p & 0xff;
    requests++;
    total[b]++;
    perLabel[label][b]++;
    labelN[label]++;
    const stage = stageCategory(p);
    const lb = latencyBin[i];
    if (lb !== NO_LATENCY) {
      labelHist[label][lb]++;
      stageHist[stage][lb]++;
    }
    if (p & BITS.low) low[b]++;
    if (p & BITS.fallbackUsed) fb[b]++;
    if (p & BITS.escalated) esc[b]++;
    const c = cost[i];
    if (!Number.isNaN(c)) {
      const d = Math.floor((ts[i] - firstDay) / DAY);
      priced++;
      spendAll += c;
      spend[d] += c;
      const bl = baseline[i];
      if (!Number.isNaN(bl) && !(p & BITS.unpriced)) {
        compared++;
        comparedAll += c;
        baseAll += bl;
        base[d] += bl;
        comparedSpend[d] += c;
      }
    }
  }

  const order = tierOrder(facts, labelN, q.labels);
  const rateSeries = (n: Float64Array) => Array.from(n, (v, i) => (total[i] > 0 ? v / total[i] : null));
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  const rate = (n: number): Rate => {
    const value = requests > 0 ? n / requests : null;
    return { value, count: n, flag: flagOf(value) };
  };
  return {
    since: q.since,
    until: q.until,
    bucketMs,
    covered: { rows: facts.size, oldest: facts.size > 0 ? facts.ts[facts.begin] : null, loading: facts.progress(), capped: facts.capped },
    totals: {
      requests,
      spendUsd: spendAll,
      pricedRequests: priced,
      compared,
      baselineUsd: baseAll,
      savingsUsd: baseAll - comparedAll,
      savingsRate: baseAll > 0 ? (baseAll - comparedAll) / baseAll : null,
      escalation: rate(sum(esc)),
      fallback: rate(sum(fb)),
      lowConfidence: rate(sum(low)),
    },
    series: {
      t: Array.from({ length: nBuckets }, (_, i) => (first + i * bucketMs) / 1000),
      tiers: order.map((l) => ({ name: facts.labels.values[l], counts: Array.from(perLabel[l]) })),
      escalation: rateSeries(esc),
      fallback: rateSeries(fb),
      lowConfidence: rateSeries(low),
    },
    daily: {
      t: Array.from({ length: nDays }, (_, i) => (firstDay + i * DAY) / 1000),
      spendUsd: Array.from(spend),
      baselineUsd: Array.from(base),
      comparedSpendUsd: Array.from(comparedSpend),
    },
    latency: {
      byTier: order.map((l) => latencyRow(facts.labels.values[l], labelHist[l])),
      byStage: [...STAGES, "fallback"].map((name, k) => latencyRow(name, stageHist[k])).filter((r) => r.n > 0),
    },
  };
}

/** Stage of a decision for latency: rule, cache, static, full, or fallback when the LLM classifier was asked. */
function stageCategory(p: number): number {
  if (p & BITS.fallbackUsed) return STAGES.length;
  return Math.min(STAGES.length - 1, (p >>> BITS.stageShift) & 7);
}

function tierOrder(facts: Facts, counts: Float64Array, labels: readonly string[] | undefined): number[] {
  const known = (labels ?? []).map((l) => facts.labels.lookup(l)).filter((i): i is number => i !== undefined);
  const rest = [...counts.keys()].filter((i) => counts[i] > 0 && !known.includes(i)).sort((a, b) => counts[b] - counts[a]);
  return [...known, ...rest];
}

/** p50 / p95 / p99 (nearest rank) from a latency histogram, each within 0.5 % (see LATENCY_BINS). */
function latencyRow(name: string, hist: Uint32Array): LatencyRow {
  const n = hist.reduce((s, v) => s + v, 0);
  const at = (p: number): number | null => {
    if (n === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    let seen = 0;
    for (let k = 0; k < hist.length; k++) if ((seen += hist[k]) >= rank) return binLatency(k);
    return null;
  };
  return { name, n, p50: at(50), p95: at(95), p99: at(99) };
}

/** Tag keys and their most common values (by tag sets seen), for the filter's choices. */
export function tagChoices(facts: Facts, perKey = 100): Record<string, string[]> {
  const counts = new Map<string, Map<string, number>>();
  for (const json of facts.tagsets.values) {
    if (json === "") continue;
    for (const [k, v] of Object.entries(parseTags(json) ?? {})) {
      if (typeof v !== "string") continue;
      let m = counts.get(k);
      if (!m) counts.set(k, (m = new Map()));
      m.set(v, (m.get(v) ?? 0) + 1);
    }
  }
  const out: Record<string, string[]> = {};
  for (const [k, m] of [...counts].sort((a, b) => a[0].localeCompare(b[0])))
    out[k] = [...m]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, perKey)
      .map(([v]) => v);
  return out;
}
