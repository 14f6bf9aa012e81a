/**
 * @module
 * Drift, from the in-memory facts: the share of novel (out-of-distribution) queries over time, and the
 * model's label mix over time against the mix it was trained on. The log does not store the nearest
 * example's similarity, so a query counts as novel when the full model flagged it low-confidence although
 * its margin cleared the deciding version's calibrated threshold: only the novelty check does that.
 */
import { BITS, STAGES, type Facts } from "./facts.js";
import { bucketFor, tagMatcher, type TagFilter } from "./overview-data.js";

export interface DriftQuery {
  since: number;
  until: number;
  tag?: TagFilter;
  /** Calibrated margin threshold per model version (artifact version string). */
  thresholds: ReadonlyMap<string, number>;
  /** The serving model's training examples per label. */
  trainingMix: Record<string, number>;
}

export interface DriftData {
  bucketMs: number;
  t: number[];
  /** Share of novel queries among those the full model judged (null: none in the bucket). */
  novel: (number | null)[];
  novelTotal: { novel: number; judged: number; share: number | null };
  /** Share of each model label per bucket, in the training mix's label order. */
  mix: { name: string; shares: (number | null)[] }[];
  /** Training share against traffic share over the whole range. */
  compare: { name: string; training: number; traffic: number | null }[];
  /** Decisions from versions whose threshold is unknown (not in the registry any more). */
  unknownVersion: number;
}

const FULL = STAGES.indexOf("full");
const CACHE = STAGES.indexOf("cache");

export function computeDrift(facts: Facts, q: DriftQuery): DriftData {
  const bucketMs = bucketFor(q.until - q.since);
  const first = Math.floor(q.since / bucketMs) * bucketMs;
  const n = Math.max(1, Math.ceil((q.until - first) / bucketMs));
  const trainLabels = Object.keys(q.trainingMix);
  const labelIds = new Map<number, number>(); // facts label id -> column
  facts.labels.values.forEach((l, id) => {
    const col = trainLabels.indexOf(l);
    if (col >= 0) labelIds.set(id, col);
  });
  const mix = trainLabels.map(() => new Float64Array(n));
  const total = new Float64Array(n);
  const novel = new Float64Array(n);
  const judged = new Float64Array(n);
  const threshold = facts.versions.values.map((v) => q.thresholds.get(v) ?? Number.NaN);
  const match = tagMatcher(facts, q.tag);
  let unknownVersion = 0;
  const from = facts.lowerBound(q.since);
  const to = facts.lowerBound(q.until);
  for (let i = from; i < to; i++) {
    const ts = facts.ts[i];
    if (ts < q.since || ts >= q.until) continue;
    if (match && !match[facts.tagset[i]]) continue;
    const b = Math.floor((ts - first) / bucketMs);
    const p = facts.packed[i];
    total[b]++;
    const col = labelIds.get((p >>> 8) & 0xff);
    if (col !== undefined) mix[col][b]++;
    // Only the full model's own verdicts show novelty (rules and the fast path's cut do not).
    const stage = (p >>> BITS.stageShift) & 7;
    if (stage !== FULL && stage !== CACHE) continue;
    const th = threshold[facts.version[i]];
    if (Number.isNaN(th)) {
      unknownVersion++;
      continue;
    }
    judged[b]++;
    if (p & BITS.low && facts.margin[i] >= th) novel[b]++;
  }
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  const trainTotal = Object.values(q.trainingMix).reduce((s, v) => s + v, 0) || 1;
  const all = sum(total);
  const novelAll = sum(novel);
  const judgedAll = sum(judged);
  return {
    bucketMs,
    t: Array.from({ length: n }, (_, i) => (first + i * bucketMs) / 1000),
    novel: Array.from(novel, (v, i) => (judged[i] > 0 ? v / judged[i] : null)),
    novelTotal: { novel: novelAll, judged: judgedAll, share: judgedAll > 0 ? novelAll / judgedAll : null },
    mix: trainLabels.map((name, c) => ({ name, shares: Array.from(mix[c], (v, i) => (total[i] > 0 ? v / total[i] : null)) })),
    compare: trainLabels.map((name, c) => ({ name, training: q.trainingMix[name] / trainTotal, traffic: all > 0 ? sum(mix[c]) / all : null })),
    unknownVersion,
  };
}
