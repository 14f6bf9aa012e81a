import { seededRandom, shuffleInPlace } from "../common/vector.js";
import { VectorIndex, type Hit } from "../index/hnsw.js";
import { aiq, type Anchors } from "../eval/routing/metrics.js";
import { pointFor, sweepTolerance } from "../eval/routing/sweep.js";
import { bestModel, columnMean, completeRows, modelsByCost, type OutcomeSet } from "../train/outcomes.js";
import { knnSuccess, type KnnParams } from "./outcome-knn.js";

export interface CvTrial {
  params: KnnParams;
  /** AIQ of the tolerance sweep over out-of-fold predictions on the training rows. */
  aiq: number;
}

export interface CvResult {
  best: CvTrial;
  trials: CvTrial[];
  folds: number;
}

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
    const index = VectorIndex.build(inside.map((r) => vectors[r]), vectors[0].length);
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

/** Picks k, smoothing and sharpness by k-fold cross-validation on the training rows only. */
export function crossValidateKnn(set: OutcomeSet, vectors: readonly Float32Array[], options: { folds?: number; seed?: number } = {}): CvResult {
  const folds = Math.max(2, Math.min(options.folds ?? 5, set.prompts.length));
  const ids = foldIds(set.prompts.length, folds, options.seed ?? 1);
  const kMax = Math.max(...KNN_GRID.k);
  const hits = outOfFoldHits(vectors, ids, folds, kMax);
  const m = set.models.length;
  const trials: CvTrial[] = [];
  // Priors and neighbour scores per fold must exclude the held-out rows, so compute them per fold.
  const scores = new Float64Array(set.prompts.length * m);
  set.prompts.forEach((p, i) => scores.set(p.scores, i * m));
  const priors = [...Array(folds).keys()].map((f) => {
    const inside = { ...set, prompts: set.prompts.filter((_, i) => ids[i] !== f) };
    return Float64Array.from(set.models, (_, k) => columnMean(inside, k, "scores") || 0);
  });
  for (const k of KNN_GRID.k)
    for (const smoothing of KNN_GRID.smoothing)
      for (const sharpness of KNN_GRID.sharpness) {
        const params = { k, smoothing, sharpness };
        const preds = hits.map((h, i) => knnSuccess(h ?? [], scores, priors[ids[i]], params));
        trials.push({ params, aiq: routingScore(set, preds) });
      }
  const best = trials.reduce((a, b) => (b.aiq > a.aiq + 1e-9 ? b : a));
  return { best, trials, folds };
}
