/**
 * @module How sure a saving is: bootstrap intervals over the test prompts. The router, the rules and the
 * single models stay as trained; only which test prompts are drawn varies (with replacement, as many as
 * there are). On a few hundred test prompts, saving at 95% moves by points from one draw to the next, so
 * a router a fraction of a point from a baseline is not shown better or worse by one split alone.
 */
import { seededRandom } from "../common/random.js";
import { anchorsBetween, randomSaving, savingAtHull, type CurvePoint } from "./metrics.js";
import type { OutcomeSet } from "./set.js";

/** A curve's choices, compressed: each prompt's model at the first setting, then only the changes. */
export interface Staircase {
  start: Int32Array;
  /** Changes at setting k are entries `offsets[k]` to `offsets[k + 1]` of `prompts`/`models` (none at 0). */
  offsets: Int32Array;
  prompts: Int32Array;
  models: Int32Array;
}

/** The staircase of a curve with `settings` points, where `choicesAt(k)` is each prompt's model at point k. */
export function staircase(settings: number, choicesAt: (k: number) => ArrayLike<number>): Staircase {
  const first = choicesAt(0);
  const start = Int32Array.from(first);
  const prev = Int32Array.from(first);
  const offsets = new Int32Array(settings + 1);
  const prompts: number[] = [];
  const models: number[] = [];
  for (let k = 1; k < settings; k++) {
    offsets[k] = prompts.length;
    const now = choicesAt(k);
    for (let i = 0; i < prev.length; i++)
      if (now[i] !== prev[i]) {
        prompts.push(i);
        models.push(now[i]);
        prev[i] = now[i];
      }
  }
  offsets[settings] = prompts.length;
  return { start, offsets, prompts: Int32Array.from(prompts), models: Int32Array.from(models) };
}

/** Per-prompt scores and costs, row-major (prompt × model), and each prompt's draw count in one resample. */
interface Table {
  scores: Float64Array;
  costs: Float64Array;
  models: number;
}

/**
 * Cost of the cheapest point of the staircase, or of either extreme, whose mean score reaches `target`
 * with prompt i counted `weights[i]` times (null: none does). With every weight 1 this is
 * metrics.costAtQuality on the same curve.
 */
export function cheapestReaching(s: Staircase, t: Table, weights: Float64Array, target: number, extremes: readonly { quality: number; cost: number }[]): number | null {
  const total = weights.reduce((a, w) => a + w, 0);
  let best: number | null = null;
  for (const e of extremes) if (e.quality >= target && (best === null || e.cost < best)) best = e.cost;
  let quality = 0;
  let cost = 0;
  const choice = Int32Array.from(s.start);
  for (let i = 0; i < choice.length; i++) {
    quality += weights[i] * t.scores[i * t.models + choice[i]];
    cost += weights[i] * t.costs[i * t.models + choice[i]];
  }
  const points = s.offsets.length - 1;
  for (let k = 0; k < points; k++) {
    for (let e = s.offsets[k]; e < s.offsets[k + 1]; e++) {
      const i = s.prompts[e];
      const w = weights[i];
      if (w === 0) {
        choice[i] = s.models[e];
        continue;
      }
      quality += w * (t.scores[i * t.models + s.models[e]] - t.scores[i * t.models + choice[i]]);
      cost += w * (t.costs[i * t.models + s.models[e]] - t.costs[i * t.models + choice[i]]);
      choice[i] = s.models[e];
    }
    if (quality / total >= target - 1e-12 && (best === null || cost < best)) best = cost;
  }
  return best;
}

export interface Interval {
  /** Percentiles 2.5 and 97.5 of the resampled values; null where they fall on "never reached". */
  low: number | null;
  high: number | null;
}

export interface SavingUncertainty {
  resamples: number;
  /** The quality share the saving is read at (0.95). */
  share: number;
  router: Interval;
  rules: Interval;
  zero: Interval;
  random: Interval;
  /** Router minus each baseline, paired on the same resamples: its interval, and the share of resamples where the router saved at least as much. */
  versus: Record<"rules" | "zero" | "random", Interval & { atLeast: number }>;
}

/** Linear-interpolated percentile of sorted values (±Infinity kept: a bound on "never reached" is null). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const at = q * (sorted.length - 1);
  const lo = sorted[Math.floor(at)];
  const hi = sorted[Math.ceil(at)];
  const v = lo === hi ? lo : lo + (hi - lo) * (at - Math.floor(at));
  return Number.isFinite(v) ? v : null;
}

const interval = (values: number[]): Interval => {
  const sorted = [...values].sort((a, b) => a - b);
  return { low: percentile(sorted, 0.025), high: percentile(sorted, 0.975) };
};

export interface BootstrapInput {
  /** The test prompts, every score known, in the order the curves' choices follow. */
  set: OutcomeSet;
  weak: number;
  strong: number;
  router: Staircase;
  rules: Staircase;
  resamples: number;
  seed: number;
  share?: number;
}

/**
 * Saving at `share` (default 0.95) of the strongest model's quality for the router, the rules, the zero
 * router (mixtures of single models, as RouterBench defines it) and random mixing, each redrawn
 * `resamples` times; "never reached" counts as no saving at all (−Infinity) and sorts below every value.
 */
export function bootstrapSavings(input: BootstrapInput): SavingUncertainty {
  const { set, weak, strong, resamples } = input;
  const share = input.share ?? 0.95;
  const n = set.prompts.length;
  const m = set.models.length;
  const table: Table = { scores: new Float64Array(n * m), costs: new Float64Array(n * m), models: m };
  set.prompts.forEach((p, i) => {
    table.scores.set(p.scores, i * m);
    table.costs.set(p.costs, i * m);
  });
  const random = seededRandom(input.seed);
  const weights = new Float64Array(n);
  const draws: Record<"router" | "rules" | "zero" | "random", number[]> = { router: [], rules: [], zero: [], random: [] };
  for (let r = 0; r < resamples; r++) {
    weights.fill(0);
    for (let j = 0; j < n; j++) weights[Math.floor(random() * n)]++;
    const singles: CurvePoint[] = set.models.map((_, k) => {
      let quality = 0;
      let cost = 0;
      for (let i = 0; i < n; i++) {
        quality += weights[i] * table.scores[i * m + k];
        cost += weights[i] * table.costs[i * m + k];
      }
      return { dial: k, quality: quality / n, cost, strongFraction: k === strong ? 1 : 0 };
    });
    const anchors = anchorsBetween(singles[weak], singles[strong]);
    const saving = (cost: number | null) => (cost === null || anchors.strongCost === 0 ? -Infinity : 1 - cost / anchors.strongCost);
    const extremes = [singles[weak], singles[strong]];
    const target = share * anchors.strongQuality;
    draws.router.push(saving(cheapestReaching(input.router, table, weights, target, extremes)));
    draws.rules.push(saving(cheapestReaching(input.rules, table, weights, target, extremes)));
    draws.zero.push(savingAtHull(singles, anchors, share) ?? -Infinity);
    draws.random.push(randomSaving(anchors, share) ?? -Infinity);
  }
  const versus = (base: number[]) => {
    const diffs = draws.router.map((v, r) => (v === base[r] ? 0 : v - base[r]));
    return { ...interval(diffs), atLeast: draws.router.filter((v, r) => v >= base[r]).length / Math.max(1, resamples) };
  };
  return {
    resamples,
    share,
    router: interval(draws.router),
    rules: interval(draws.rules),
    zero: interval(draws.zero),
    random: interval(draws.random),
    versus: { rules: versus(draws.rules), zero: versus(draws.zero), random: versus(draws.random) },
  };
}
