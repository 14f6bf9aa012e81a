import { seededRandom, shuffleInPlace } from "../common/random.js";
import { VectorIndex, type Hit } from "../model/hnsw.js";
import { aiq, type Anchors } from "./metrics.js";
import { pointFor, sweepTolerance } from "./sweep.js";
import { bestModel, columnMean, completeRows, modelsByCost, type OutcomeSet } from "./set.js";
import { knnSuccess, type KnnParams } from "./knn.js";
import { fitScaler, surfaceFeatures, withSurfaceFeatures } from "./features.js";
import { DEFAULT_LOGISTIC, fitLogistic, predictLogistic, type LogisticParams } from "./logistic.js";

export type OutcomeMethod = "knn" | "logistic" | "blend";

export interface CvTrial {
  method: OutcomeMethod;
  knn?: KnnParams;
  logistic?: LogisticParams;
  /** AIQ of the tolerance sweep over out-of-fold predictions on the training rows. */
  aiq: number;
}

export interface CvResult {
  best: CvTrial;
  /** The best trial's out-of-fold predictions, one per training row (what the dial is calibrated on). */
  bestPreds: Float64Array[];
  /** Best kNN trial (used alone or in the blend). */
  bestKnn: CvTrial;
  bestLogistic?: CvTrial;
  trials: CvTrial[];
  folds: number;
}

export const LOGISTIC_L2 = [1e-4, 1e-3, 1e-2];

export const KNN_GRID = {
  k: [5, 10, 20, 40, 80],
  smoothing: [0.5, 1, 2, 5, 10, 20],
  sharpness: [0, 5, 20],
};

/** Fold id per row, balanced and seeded. */
export function foldIds(n: number, folds: number, seed: number): Int32Array {
  const order = shuffleInPlace([...Array(n).keys()], seededRandom(seed));
  const ids = new Int32Array(n);
  order.forEach((row, i) => (ids[row] = i % folds));
  return ids;
}

/** For every row, its nearest neighbours among the rows of the other folds (ids are global row indices). */
export function outOfFoldHits(vectors: readonly Float32Array[], folds: Int32Array, foldCount: number, k: number): Hit[][] {
  const hits: Hit[][] = new Array(vectors.length);
  for (let f = 0; f < foldCount; f++) {
    const inside: number[] = [];
    const held: number[] = [];
    folds.forEach((id, row) => (id === f ? held : inside).push(row));
    if (inside.length === 0) continue;
    const index = VectorIndex.build(
      inside.map((r) => vectors[r]),
      vectors[0].length,
    );
    for (const row of held) hits[row] = index.search(vectors[row], k).map((h) => ({ id: inside[h.id], similarity: h.similarity }));
  }
  return hits;
}

/** Scores a set of out-of-fold predictions as a router would be scored: AIQ of the tolerance sweep. */
export function routingScore(set: OutcomeSet, preds: readonly Float64Array[]): number {
  const keep = set.prompts.map((p) => p.scores.every((s) => !Number.isNaN(s)));
  const complete = completeRows(set);
  const kept = preds.filter((_, i) => keep[i]);
  const byCost = modelsByCost(set);
  const strong = bestModel(set);
  const weak = byCost[0];
  const all = (m: number) => pointFor(complete, new Array(complete.prompts.length).fill(m), strong, m);
  const w = all(weak);
  const s = all(strong);
  const anchors: Anchors = { weakQuality: w.quality, weakCost: w.cost, strongQuality: s.quality, strongCost: s.cost };
  return aiq(sweepTolerance(complete, kept, byCost, strong).points, anchors);
}

/**
 * Picks the estimator and its settings by k-fold cross-validation on the training rows only:
 * kNN over a grid of k / smoothing / sharpness, optionally a per-model logistic head over L2 values,
 * and the average of the best of each. Scored by AIQ of the tolerance sweep on pooled out-of-fold predictions.
 */
export function crossValidate(set: OutcomeSet, vectors: readonly Float32Array[], options: { folds?: number; seed?: number; logistic?: boolean } = {}): CvResult {
  const folds = Math.max(2, Math.min(options.folds ?? 5, set.prompts.length));
  const ids = foldIds(set.prompts.length, folds, options.seed ?? 1);
  const kMax = Math.max(...KNN_GRID.k);
  const hits = outOfFoldHits(vectors, ids, folds, kMax);
  const m = set.models.length;
  const scores = new Float64Array(set.prompts.length * m);
  set.prompts.forEach((p, i) => scores.set(p.scores, i * m));
  // Priors must exclude the held-out rows too.
  const priors = [...Array(folds).keys()].map((f) => {
    const inside = { ...set, prompts: set.prompts.filter((_, i) => ids[i] !== f) };
    return Float64Array.from(set.models, (_, k) => columnMean(inside, k, "scores") || 0);
  });
  const trials: CvTrial[] = [];
  let bestKnn: { trial: CvTrial; preds: Float64Array[] } | undefined;
  for (const k of KNN_GRID.k)
    for (const smoothing of KNN_GRID.smoothing)
      for (const sharpness of KNN_GRID.sharpness) {
        const params = { k, smoothing, sharpness };
        const preds = hits.map((h, i) => knnSuccess(h ?? [], scores, priors[ids[i]], params));
        const trial: CvTrial = { method: "knn", knn: params, aiq: routingScore(set, preds) };
        trials.push(trial);
        if (!bestKnn || trial.aiq > bestKnn.trial.aiq + 1e-9) bestKnn = { trial, preds };
      }
  let best = bestKnn!.trial;
  let bestPreds = bestKnn!.preds;
  let bestLogistic: { trial: CvTrial; preds: Float64Array[] } | undefined;
  if (options.logistic ?? true) {
    const rowScores = set.prompts.map((p) => p.scores);
    const raw = set.prompts.map((p) => surfaceFeatures(p.text));
    // Surface features are standardised with the training folds' statistics only.
    const foldInputs = [...Array(folds).keys()].map((f) => {
      const scaler = fitScaler(raw.filter((_, i) => ids[i] !== f));
      return vectors.map((v, i) => withSurfaceFeatures(v, set.prompts[i].text, scaler));
    });
    for (const l2 of LOGISTIC_L2) {
      const params = { ...DEFAULT_LOGISTIC, l2 };
      const preds = new Array<Float64Array>(set.prompts.length);
      for (let f = 0; f < folds; f++) {
        const inside = [...ids.keys()].filter((i) => ids[i] !== f);
        const model = fitLogistic(
          inside.map((i) => foldInputs[f][i]),
          inside.map((i) => rowScores[i]),
          m,
          params,
        );
        ids.forEach((id, i) => {
          if (id === f) preds[i] = predictLogistic(model, foldInputs[f][i]);
        });
      }
      const trial: CvTrial = { method: "logistic", logistic: params, aiq: routingScore(set, preds) };
      trials.push(trial);
      if (!bestLogistic || trial.aiq > bestLogistic.trial.aiq + 1e-9) bestLogistic = { trial, preds };
    }
    const blendPreds = bestKnn!.preds.map((p, i) => p.map((v, k) => (v + bestLogistic!.preds[i][k]) / 2));
    const blend: CvTrial = { method: "blend", knn: bestKnn!.trial.knn, logistic: bestLogistic!.trial.logistic, aiq: routingScore(set, blendPreds) };
    trials.push(blend);
    for (const [t, preds] of [
      [bestLogistic!.trial, bestLogistic!.preds],
      [blend, blendPreds],
    ] as const)
      if (t.aiq > best.aiq + 1e-9) {
        best = t;
        bestPreds = preds;
      }
  }
  return { best, bestPreds, bestKnn: bestKnn!.trial, bestLogistic: bestLogistic?.trial, trials, folds };
}
