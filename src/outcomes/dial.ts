/**
 * @module The cost–quality dial of an outcome model, and its calibration.
 *
 * Inside, the router has one knob, a setting of its choice rule (sweep.ts): a tolerance (the cheapest
 * model predicted within it of the best) or a price λ (the best predicted − λ × relative cost); cross-
 * validation picks the rule with the estimator. People think in other units, so the dial is set as either
 *  - a quality floor relative to the strongest model (`{ quality: 0.95 }`: 95% of its mean score), or
 *  - a cost ceiling relative to the strongest model (`{ maxCost: 0.3 }`: 30% of what it would cost),
 * and training maps both onto a setting with a curve measured on out-of-fold predictions (cross-validated:
 * no prompt is scored by an estimator that saw its outcomes). The same mapping serves `route`, `serve`
 * and `eval-routing`, so a dial setting means the same thing everywhere.
 */
import { TriageError } from "../common/errors.js";
import { hasEveryScore, type OutcomeSet } from "./set.js";
import type { Dial } from "../router/types.js";
import { breakpoints, choose, type ChoiceRule } from "./sweep.js";

export type { Dial };

export const DEFAULT_DIAL: Dial = { quality: 0.95 };

/**
 * Most calibrated settings kept in an outcome model (see dialSettings): ~90 KB of manifest. 200 made a
 * floor land up to a few dozen prompts' step above the cheapest setting reaching it (MMLU at 0.95: 46.6%
 * saved on test against 47.1%); beyond 1,000 nothing measured changed.
 */
export const DIAL_POINTS = 1000;

/** One setting of the rule and what it gave out of fold, relative to the strongest model on the same prompts. */
export interface DialPoint {
  setting: number;
  /** Mean score / the strongest model's mean score. */
  quality: number;
  /** Total cost / the strongest model's total cost. */
  cost: number;
}

export interface DialCalibration {
  rule: ChoiceRule;
  /** Training prompts with every score known, scored out of fold. */
  rows: number;
  folds: number;
  /** The strongest model on those prompts: mean score and mean cost per prompt (USD). */
  strongQuality: number;
  strongCost: number;
  /** By increasing setting (from best predicted toward cheapest). */
  points: DialPoint[];
}

/**
 * Settings worth calibrating: halfway between each two neighbouring points where some choice changes
 * (sweep.ts's breakpoints), then one past the last (always the cheapest). Halfway, not at a breakpoint,
 * so a prompt that sits on one seen in training is not decided by rounding noise in its embedding.
 */
export function dialSettings(rule: ChoiceRule, preds: readonly ArrayLike<number>[], relativeCost: ArrayLike<number>, max = DIAL_POINTS): number[] {
  const sorted = breakpoints(rule, preds, relativeCost);
  const mids = sorted.slice(1).map((g, i) => (sorted[i] + g) / 2);
  mids.push(sorted[sorted.length - 1] + 1);
  if (mids.length <= max) return mids;
  const thinned = new Set<number>();
  for (let i = 0; i < max; i++) thinned.add(mids[Math.round((i / (max - 1)) * (mids.length - 1))]);
  return [...thinned].sort((a, b) => a - b);
}

/**
 * The dial's curve on out-of-fold predictions: `partitions` holds one set per fold partition (one
 * prediction per prompt of `set`; prompts with an unknown score are left out), and each setting's quality
 * and cost are pooled over all of them, so no single partition's luck places the dial. `byCost` and
 * `strong` as the router orders and names its models.
 */
export function calibrateDial(
  set: OutcomeSet,
  partitions: readonly (readonly ArrayLike<number>[])[],
  router: { byCost: readonly number[]; relativeCost: ArrayLike<number>; strong: number },
  rule: ChoiceRule,
  folds: number,
  max = DIAL_POINTS,
): DialCalibration {
  const { byCost, relativeCost, strong } = router;
  const known = set.prompts.flatMap((p, i) => (hasEveryScore(p) ? [i] : []));
  if (known.length === 0) throw new TriageError("cannot calibrate the dial: no training prompt has every model's score");
  if (partitions.length === 0) throw new TriageError("cannot calibrate the dial: no out-of-fold predictions");
  let strongQuality = 0;
  let strongCost = 0;
  for (const i of known) {
    strongQuality += set.prompts[i].scores[strong];
    strongCost += set.prompts[i].costs[strong];
  }
  const pooled = partitions.length;
  const rel = (v: number, ref: number) => (ref === 0 ? (v === 0 ? 1 : Infinity) : v / ref);
  const points = dialSettings(
    rule,
    partitions.flatMap((preds) => known.map((i) => preds[i])),
    relativeCost,
    max,
  ).map((setting): DialPoint => {
    let quality = 0;
    let cost = 0;
    for (const preds of partitions)
      for (const i of known) {
        const m = choose(rule, preds[i], byCost, relativeCost, setting);
        quality += set.prompts[i].scores[m];
        cost += set.prompts[i].costs[m];
      }
    return { setting, quality: rel(quality, strongQuality * pooled), cost: rel(cost, strongCost * pooled) };
  });
  return { rule, rows: known.length, folds, strongQuality: strongQuality / known.length, strongCost: strongCost / known.length, points };
}

/**
 * The rule's setting a dial setting stands for: for a quality floor, the cheapest calibrated point reaching it
 * (the best-quality one when none does); for a cost ceiling, the best-quality point within it (the
 * cheapest one when none is). Ties go to the larger setting (cheaper models).
 */
export function settingFor(calibration: DialCalibration, dial: Dial): number {
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
  return pick!.setting;
}

/** The calibrated point a dial setting lands on (what it promises, out of fold). */
export function dialPoint(calibration: DialCalibration, dial: Dial): DialPoint {
  const t = settingFor(calibration, dial);
  return calibration.points.find((p) => p.setting === t)!;
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
