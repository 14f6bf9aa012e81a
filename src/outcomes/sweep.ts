import type { OutcomeSet } from "./set.js";
import type { CurvePoint } from "./metrics.js";

/** One operating point, scored on rows where every score is known. */
export function pointFor(set: OutcomeSet, choices: ArrayLike<number>, strong: number, dial: number): CurvePoint {
  let quality = 0;
  let cost = 0;
  let strongCalls = 0;
  set.prompts.forEach((p, i) => {
    const m = choices[i];
    quality += p.scores[m];
    cost += p.costs[m];
    if (m === strong) strongCalls++;
  });
  const n = Math.max(1, set.prompts.length);
  return { dial, quality: quality / n, cost, strongFraction: strongCalls / n };
}

/** Cheapest model (in `byCost` order) whose predicted success is within `tolerance` of the best prediction. */
export function chooseWithin(pred: ArrayLike<number>, byCost: readonly number[], tolerance: number): number {
  let best = -Infinity;
  for (const m of byCost) best = Math.max(best, pred[m]);
  for (const m of byCost) if (pred[m] >= best - tolerance) return m;
  return byCost[byCost.length - 1];
}

/** Tolerances worth trying: every gap to the best prediction that occurs (thinned to `max` quantiles), plus 0. */
export function toleranceGrid(preds: readonly ArrayLike<number>[], max = 200): number[] {
  const gaps: number[] = [0];
  for (const p of preds) {
    let best = -Infinity;
    for (let m = 0; m < p.length; m++) best = Math.max(best, p[m]);
    for (let m = 0; m < p.length; m++) gaps.push(best - p[m]);
  }
  const sorted = [...new Set(gaps)].sort((a, b) => a - b);
  if (sorted.length <= max) return sorted.map((g) => g + 1e-12); // ">= best - tol" must include the gap itself
  const out = new Set<number>([0]);
  for (let i = 0; i < max; i++) out.add(sorted[Math.round((i / (max - 1)) * (sorted.length - 1))]);
  return [...out].sort((a, b) => a - b).map((g) => g + 1e-12);
}

/** The tolerance dial swept over predictions: one point per tolerance, from "best predicted" to "cheapest". */
export function sweepTolerance(set: OutcomeSet, preds: readonly ArrayLike<number>[], byCost: readonly number[], strong: number): { points: CurvePoint[]; choices: number[][] } {
  const grid = toleranceGrid(preds);
  const choices = grid.map((t) => preds.map((p) => chooseWithin(p, byCost, t)));
  return { points: grid.map((t, i) => pointFor(set, choices[i], strong, t)), choices };
}
