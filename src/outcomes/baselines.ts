import type { OutcomeSet } from "./set.js";
import { anchorsBetween, type Anchors, type CurvePoint } from "./metrics.js";
import { pointFor, pointOf } from "./sweep.js";

/** Every prompt to one model. */
export function always(set: OutcomeSet, model: number, strong: number): CurvePoint {
  return pointOf(set, () => model, strong, model);
}

/** The ends of every curve on `set`: always the `weak` model and always the `strong` one. */
export function anchorsFor(set: OutcomeSet, weak: number, strong: number): Anchors {
  return anchorsBetween(always(set, weak, strong), always(set, strong, strong));
}

/**
 * Sending each prompt to the strong model with probability p: expected quality and cost, p = 0, 0.05, ..., 1,
 * plus the exact p that reaches each of `shares` of the strong model's quality (so random's saving there is exact).
 */
export function randomMixtures(weak: CurvePoint, strong: CurvePoint, steps = 20, shares: readonly number[] = [0.95, 0.98]): CurvePoint[] {
  const gap = strong.quality - weak.quality;
  const exact = gap > 0 ? shares.map((s) => (s * strong.quality - weak.quality) / gap).filter((p) => p > 0 && p < 1) : [];
  const ps = [...new Set([...[...Array(steps + 1).keys()].map((i) => i / steps), ...exact])].sort((a, b) => a - b);
  return ps.map((p) => ({ dial: p, quality: (1 - p) * weak.quality + p * strong.quality, cost: (1 - p) * weak.cost + p * strong.cost, strongFraction: p }));
}

/**
 * The seed heuristic: long prompts, or prompts with reasoning / code / math words, go to the strong model;
 * the rest to the weak one.
 */
export const HARD_KEYWORDS =
  /\b(prove|proof|derive|reason(?:ing)?|step[- ]by[- ]step|explain|why|calculate|compute|solve|equation|integral|derivative|probability|theorem|algorithm|code|function|python|javascript|sql|implement|debug|program|regex|complexity|optimi[sz]e|math)\b/i;

export function ruleSaysStrong(text: string, lengthCutoff: number): boolean {
  return text.length > lengthCutoff || HARD_KEYWORDS.test(text);
}

/** The heuristic at length cut-offs from "everything is long" to "nothing is": deciles of the test prompts' lengths. */
export function ruleCurve(set: OutcomeSet, weak: number, strong: number): { points: CurvePoint[]; choices: number[][] } {
  const lengths = set.prompts.map((p) => p.text.length).sort((a, b) => a - b);
  const cutoffs = new Set<number>([-1, Infinity]);
  for (let i = 1; i < 20; i++) cutoffs.add(lengths[Math.floor((i / 20) * (lengths.length - 1))]);
  const sorted = [...cutoffs].sort((a, b) => a - b);
  const choices = sorted.map((cut) => set.prompts.map((p) => (ruleSaysStrong(p.text, cut) ? strong : weak)));
  return { points: sorted.map((cut, i) => pointFor(set, choices[i], strong, cut)), choices };
}

/** The oracle: for each prompt the model good enough at the lowest cost for that prompt (the cheapest when none is). */
export function oracle(set: OutcomeSet, strong: number, threshold: number): { point: CurvePoint; choices: number[] } {
  const choices = set.prompts.map((p) => {
    let pick = -1;
    let cheapest = 0;
    for (let m = 0; m < set.models.length; m++) {
      if (p.costs[m] < p.costs[cheapest]) cheapest = m;
      if (p.scores[m] >= threshold && (pick < 0 || p.costs[m] < p.costs[pick])) pick = m;
    }
    return pick >= 0 ? pick : cheapest;
  });
  return { point: pointFor(set, choices, strong, NaN), choices };
}

/** Per prompt against the oracle: paid more than needed (cost inflation) vs lost an answer some model had (quality loss). */
export function choiceErrors(set: OutcomeSet, choices: readonly number[], oracleChoices: readonly number[], threshold: number) {
  let costInflation = 0;
  let qualityLoss = 0;
  set.prompts.forEach((p, i) => {
    const chosen = choices[i];
    const best = oracleChoices[i];
    const oracleGood = p.scores[best] >= threshold;
    if (oracleGood && !(p.scores[chosen] >= threshold)) qualityLoss++;
    else if (p.costs[chosen] > p.costs[best] + 1e-15 && p.scores[chosen] >= threshold) costInflation++;
  });
  return { costInflation, qualityLoss };
}
