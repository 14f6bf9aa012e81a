/**
 * @module Choosing among cross-validated estimators less optimistically than "the highest score".
 *
 * Estimators whose cross-validated scores sit within noise of each other are told apart mostly by chance,
 * so the highest is an optimistic pick. The one-standard-error rule (Breiman et al. 1984; Hastie,
 * Tibshirani & Friedman, The Elements of Statistical Learning §7.10) takes instead the most regularised
 * candidate whose score is within one standard error of the best: among estimators the data cannot tell
 * apart, the one that claims least. Here "most regularised" is measured the same way for every kind of
 * estimator: the least spread of its out-of-fold predictions (smoothing, larger k, a stronger L2 penalty
 * and blending all pull predictions toward each model's base rate).
 */
import { TriageError } from "../common/errors.js";

/** How cross-validation picks among its candidates. */
export type Selection = "best" | "one-se";

export const SELECTIONS: readonly Selection[] = ["best", "one-se"];

/** One candidate's cross-validated figures. */
export interface CandidateStats {
  /** Score to maximise (mean over repeats). */
  mean: number;
  /** Standard error of that score, from its spread over folds. */
  se: number;
  /** Spread of its out-of-fold predictions: lower = more regularised. */
  spread: number;
}

/** Mean and standard error of per-fold scores: the mean over every fold of every repeat, and the mean over repeats of sd / √folds (repeats reuse the same rows, so they narrow the partition noise, not the standard error). */
export function foldMeanAndSe(scores: readonly (readonly number[])[]): { mean: number; se: number } {
  const all = scores.flat();
  if (all.length === 0) throw new TriageError("fold scores: no fold was scored");
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const ses = scores.map((folds) => {
    if (folds.length < 2) return 0;
    const m = folds.reduce((a, b) => a + b, 0) / folds.length;
    const variance = folds.reduce((a, b) => a + (b - m) ** 2, 0) / (folds.length - 1);
    return Math.sqrt(variance / folds.length);
  });
  return { mean, se: ses.reduce((a, b) => a + b, 0) / ses.length };
}

/** Mean over models of the standard deviation of each model's predictions over rows. */
export function predictionSpread(preds: readonly ArrayLike<number>[]): number {
  if (preds.length === 0) return 0;
  const models = preds[0].length;
  let total = 0;
  for (let m = 0; m < models; m++) {
    let sum = 0;
    let squares = 0;
    for (const p of preds) {
      sum += p[m];
      squares += p[m] * p[m];
    }
    const mean = sum / preds.length;
    total += Math.sqrt(Math.max(0, squares / preds.length - mean * mean));
  }
  return models === 0 ? 0 : total / models;
}

/** Index of the candidate with the highest mean (the first of equals). */
export function bestIndex(candidates: readonly CandidateStats[]): number {
  if (candidates.length === 0) throw new TriageError("no candidate to choose from");
  let best = 0;
  candidates.forEach((c, i) => {
    if (c.mean > candidates[best].mean + 1e-12) best = i;
  });
  return best;
}

/** Index of the least spread candidate whose mean is within one standard error of the best's (the first of equals). */
export function oneStandardErrorIndex(candidates: readonly CandidateStats[]): number {
  const best = candidates[bestIndex(candidates)];
  const floor = best.mean - best.se - 1e-12;
  let pick = -1;
  candidates.forEach((c, i) => {
    if (c.mean >= floor && (pick < 0 || c.spread < candidates[pick].spread - 1e-12)) pick = i;
  });
  return pick;
}

/** The candidate `selection` picks. */
export function selectIndex(candidates: readonly CandidateStats[], selection: Selection): number {
  return selection === "one-se" ? oneStandardErrorIndex(candidates) : bestIndex(candidates);
}
