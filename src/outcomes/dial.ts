/**
 * @module The cost–quality dial of an outcome model, and its calibration.
 *
 * Inside, the router has one knob: the tolerance (take the cheapest model predicted within this much of
 * the best prediction for the prompt). People think in other units, so the dial is set as either
 *  - a quality floor relative to the strongest model (`{ quality: 0.95 }`: 95% of its mean score), or
 *  - a cost ceiling relative to the strongest model (`{ maxCost: 0.3 }`: 30% of what it would cost),
 * and training maps both onto a tolerance with a curve measured on out-of-fold predictions (cross-validated:
 * no prompt is scored by an estimator that saw its outcomes). The same mapping serves `route`, `serve`
 * and `eval-routing`, so a dial setting means the same tolerance everywhere.
 */
import { TriageError } from "../common/errors.js";
import type { OutcomeSet } from "./set.js";
import type { Dial } from "../router/types.js";
import { chooseWithin } from "./sweep.js";

export type { Dial };

export const DEFAULT_DIAL: Dial = { quality: 0.95 };

/** One tolerance and what it gave out of fold, relative to the strongest model on the same prompts. */
export interface DialPoint {
  tolerance: number;
  /** Mean score / the strongest model's mean score. */
  quality: number;
  /** Total cost / the strongest model's total cost. */
  cost: number;
}

export interface DialCalibration {
  /** Training prompts with every score known, scored out of fold. */
  rows: number;
  folds: number;
  /** The strongest model on those prompts: mean score and mean cost per prompt (USD). */
  strongQuality: number;
  strongCost: number;
  /** By increasing tolerance. */
  points: DialPoint[];
}

/**
 * Tolerances worth calibrating: halfway between each two neighbouring gaps (best prediction minus a
 * model's prediction) that occur, then one past the largest (always the cheapest). Halfway, not at a
 * gap, so a prompt whose gap equals one seen in training is not decided by rounding noise in its embedding.
 */
export function dialTolerances(preds: readonly ArrayLike<number>[], max = 200): number[] {
  const gaps = new Set<number>([0]);
  for (const p of preds) {
    let best = -Infinity;
    for (let m = 0; m < p.length; m++) best = Math.max(best, p[m]);
    for (let m = 0; m < p.length; m++) gaps.add(best - p[m]);
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  const mids = sorted.slice(1).map((g, i) => (sorted[i] + g) / 2);
  mids.push(sorted[sorted.length - 1] + 1);
  if (mids.length <= max) return mids;
  const thinned = new Set<number>();
  for (let i = 0; i < max; i++) thinned.add(mids[Math.round((i / (max - 1)) * (mids.length - 1))]);
  return [...thinned].sort((a, b) => a - b);
}

/**
 * The dial's curve on out-of-fold predictions `preds` (one per prompt of `set`; prompts with an unknown
 * score are left out). `byCost` and `strong` as the router orders and names its models.
 */
export function calibrateDial(set: OutcomeSet, preds: readonly ArrayLike<number>[], byCost: readonly number[], strong: number, folds: number): DialCalibration {
  const rows = set.prompts.map((p, i) => ({ p, pred: preds[i] })).filter(({ p }) => p.scores.every((s) => !Number.isNaN(s)));
  if (rows.length === 0) throw new TriageError("cannot calibrate the dial: no training prompt has every model's score");
  let strongQuality = 0;
  let strongCost = 0;
  for (const { p } of rows) {
    strongQuality += p.scores[strong];
    strongCost += p.costs[strong];
  }
  const rel = (v: number, ref: number) => (ref === 0 ? (v === 0 ? 1 : Infinity) : v / ref);
  const points = dialTolerances(rows.map((r) => r.pred)).map((tolerance): DialPoint => {
    let quality = 0;
    let cost = 0;
    for (const { p, pred } of rows) {
      const m = chooseWithin(pred, byCost, tolerance);
      quality += p.scores[m];
      cost += p.costs[m];
    }
    return { tolerance, quality: rel(quality, strongQuality), cost: rel(cost, strongCost) };
  });
  return { rows: rows.length, folds, strongQuality: strongQuality / rows.length, strongCost: strongCost / rows.length, points };
}

/**
 * The tolerance a dial setting stands for: for a quality floor, the cheapest calibrated point reaching it
 * (the best-quality one when none does); for a cost ceiling, the best-quality point within it (the
 * cheapest one when none is). Ties go to the larger tolerance (cheaper models).
 */
export function toleranceFor(calibration: DialCalibration, dial: Dial): number {
  const pts = calibration.points;
  const eps = 1e-12;
  let pick: DialPoint | undefined;
  if ("quality" in dial) {
    for (const p of pts) if (p.quality >= dial.quality - eps && (!pick || p.cost <= pick.cost)) pick = p;
    if (!pick) for (const p of pts) if (!pick || p.quality >= pick.quality) pick = p;
  } else {
    for (const p of pts) if (p.cost <= dial.maxCost + eps && (!pick || p.quality >= pick.quality)) pick = p;
    if (!pick) for (const p of pts) if (!pick || p.cost <= pick.cost) pick = p;
  }
  return pick!.tolerance;
}

/** The calibrated point a dial setting lands on (what it promises, out of fold). */
export function dialPoint(calibration: DialCalibration, dial: Dial): DialPoint {
  const t = toleranceFor(calibration, dial);
  return calibration.points.find((p) => p.tolerance === t)!;
}

/** Checks a dial value given by a person (flag, header, config); `where` names it in the error. */
export function parseDialValue(raw: string | number, kind: "quality" | "maxCost", where: string): Dial {
  const n = typeof raw === "number" ? raw : raw.trim() === "" ? NaN : Number(raw);
  if (kind === "quality") {
    if (!(n > 0 && n <= 1))
      throw new TriageError(`${where}: expected a quality floor in (0, 1] (share of the strongest model's quality, e.g. 0.95), got ${JSON.stringify(raw)}`, "E_INPUT");
    return { quality: n };
  }
  if (!(n >= 0 && Number.isFinite(n)))
    throw new TriageError(`${where}: expected a cost ceiling >= 0 (share of the strongest model's cost, e.g. 0.3), got ${JSON.stringify(raw)}`, "E_INPUT");
  return { maxCost: n };
}

/** "quality 0.95" / "max cost 0.3", for messages and decisions. */
export function describeDial(dial: Dial): string {
  return "quality" in dial ? `quality floor ${dial.quality}` : `cost ceiling ${dial.maxCost}`;
}
