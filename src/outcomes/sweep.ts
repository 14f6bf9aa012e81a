import type { OutcomeSet } from "./set.js";
import type { CurvePoint } from "./metrics.js";

/** One operating point, scored on rows where every score is known. */
export function pointFor(set: OutcomeSet, choices: ArrayLike<number>, strong: number, dial: number): CurvePoint {
  return pointOf(set, (i) => choices[i], strong, dial);
}

/**
 * pointFor with each prompt's choice computed as it is scored. Cross-validation scores hundreds of sweeps
 * of hundreds of settings: an array of choices per setting (160 KB on 20,000 prompts, too large for V8's
 * young generation, so it went straight to the old one) piled garbage until a full collection.
 */
export function pointOf(set: OutcomeSet, choice: (row: number) => number, strong: number, dial: number): CurvePoint {
  let quality = 0;
  let cost = 0;
  let strongCalls = 0;
  const prompts = set.prompts;
  for (let i = 0; i < prompts.length; i++) {
    const m = choice(i);
    quality += prompts[i].scores[m];
    cost += prompts[i].costs[m];
    if (m === strong) strongCalls++;
  }
  const n = Math.max(1, prompts.length);
  return { dial, quality: quality / n, cost, strongFraction: strongCalls / n };
}

/** Cheapest model (in `byCost` order) whose predicted success is within `tolerance` of the best prediction. */
export function chooseWithin(pred: ArrayLike<number>, byCost: readonly number[], tolerance: number): number {
  let best = -Infinity;
  for (const m of byCost) best = Math.max(best, pred[m]);
  for (const m of byCost) if (pred[m] >= best - tolerance) return m;
  return byCost[byCost.length - 1];
}

/**
 * How a setting of the dial turns predictions into a choice:
 *  - tolerance: the cheapest model predicted within the setting of the best prediction;
 *  - lambda: the model maximising predicted − setting × relative cost (its mean cost over the dearest's).
 * With two models they choose alike; with more, lambda weighs how much cheaper a model is.
 */
export type ChoiceRule = "tolerance" | "lambda";

/** The model with the best predicted − λ·relative cost (ties: the cheaper). */
export function chooseByLambda(pred: ArrayLike<number>, byCost: readonly number[], relativeCost: ArrayLike<number>, lambda: number): number {
  let best = byCost[0];
  let bestValue = -Infinity;
  for (const m of byCost) {
    const v = pred[m] - lambda * relativeCost[m];
    if (v > bestValue + 1e-12) {
      best = m;
      bestValue = v;
    }
  }
  return best;
}

export function choose(rule: ChoiceRule, pred: ArrayLike<number>, byCost: readonly number[], relativeCost: ArrayLike<number>, setting: number): number {
  return rule === "lambda" ? chooseByLambda(pred, byCost, relativeCost, setting) : chooseWithin(pred, byCost, setting);
}

/**
 * The settings at which some prediction's choice changes: the gaps to the best prediction (tolerance), or
 * the λ at which two models' predicted − λ·cost tie (lambda). Sorted, distinct, 0 included.
 * Collected in a typed array and sorted there: a Set boxes each number, and cross-validation collects
 * them for every sweep it scores (with pointOf, 1,048 -> 897 MB peak on 20,000 prompts).
 */
export function breakpoints(rule: ChoiceRule, preds: readonly ArrayLike<number>[], relativeCost: ArrayLike<number>): number[] {
  const models = preds[0]?.length ?? 0;
  const perRow = rule === "tolerance" ? models : (models * (models - 1)) / 2;
  const all = new Float64Array(1 + preds.length * perRow);
  let n = 1; // all[0] = 0
  for (const p of preds) {
    if (rule === "tolerance") {
      let best = -Infinity;
      for (let m = 0; m < p.length; m++) best = Math.max(best, p[m]);
      for (let m = 0; m < p.length; m++) all[n++] = best - p[m];
    } else
      for (let a = 0; a < p.length; a++)
        for (let b = 0; b < p.length; b++) {
          const dc = relativeCost[a] - relativeCost[b];
          if (dc > 0 && p[a] > p[b]) all[n++] = (p[a] - p[b]) / dc;
        }
  }
  const sorted = all.subarray(0, n).sort();
  const out: number[] = [];
  for (const v of sorted) if (out.length === 0 || v !== out[out.length - 1]) out.push(v);
  return out;
}

/** A rule swept over predictions: one curve point per setting, and the choices behind each point. */
export interface Sweep {
  points: CurvePoint[];
  /** The setting of each point. */
  settings: number[];
  /** The choice per prompt at point `i`, recomputed: a fine sweep has too many points to keep them all. */
  choicesAt(i: number): number[];
}

/** Sorted breakpoints thinned to `max` quantiles (0 kept), or all of them when there are fewer. */
function thin(sorted: readonly number[], max: number): number[] {
  if (sorted.length <= max) return [...sorted];
  const out = new Set<number>([0]);
  for (let i = 0; i < max; i++) out.add(sorted[Math.round((i / (max - 1)) * (sorted.length - 1))]);
  return [...out].sort((a, b) => a - b);
}

/**
 * The rule swept over predictions: one point per setting where a choice changes, from best predicted to
 * cheapest. Cross-validation scores hundreds of estimators and thins the settings to `max` (default 200);
 * a report on held-out data passes Infinity, so the curve reaches each quality at the finest step the
 * predictions allow (a coarse staircase can miss the cheapest setting reaching 95% by a step).
 */
export function sweepRule(
  set: OutcomeSet,
  preds: readonly ArrayLike<number>[],
  byCost: readonly number[],
  relativeCost: ArrayLike<number>,
  strong: number,
  rule: ChoiceRule,
  max = 200,
): Sweep {
  if (rule === "tolerance") return sweepTolerance(set, preds, byCost, strong, max);
  const sorted = breakpoints(rule, preds, relativeCost);
  // Just past each breakpoint: the choice there has tipped to the cheaper model.
  const settings = [...thin(sorted, max).map((g) => g + 1e-12), sorted[sorted.length - 1] + 1];
  const choicesAt = (i: number) => preds.map((p) => chooseByLambda(p, byCost, relativeCost, settings[i]));
  const points = settings.map((l) => pointOf(set, (i) => chooseByLambda(preds[i], byCost, relativeCost, l), strong, l));
  return { points, settings, choicesAt };
}

/** Tolerances worth trying: every gap to the best prediction that occurs (thinned to `max` quantiles), plus 0. */
export function toleranceGrid(preds: readonly ArrayLike<number>[], max = 200): number[] {
  // ">= best - tol" must include the gap itself
  return thin(breakpoints("tolerance", preds, []), max).map((g) => g + 1e-12);
}

/** The tolerance dial swept over predictions: one point per tolerance, from "best predicted" to "cheapest". */
export function sweepTolerance(set: OutcomeSet, preds: readonly ArrayLike<number>[], byCost: readonly number[], strong: number, max = 200): Sweep {
  const settings = toleranceGrid(preds, max);
  const choicesAt = (i: number) => preds.map((p) => chooseWithin(p, byCost, settings[i]));
  const points = settings.map((t) => pointOf(set, (i) => chooseWithin(preds[i], byCost, t), strong, t));
  return { points, settings, choicesAt };
}
