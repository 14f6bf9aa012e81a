import { softmax } from "../common/vector.js";

/**
 * How the three parts' opinions become one score per label. Shared by training (cross-validation)
 * and the runtime router, so what was calibrated is exactly what runs.
 */

export interface Combination {
  /** Weights of the kNN vote, centroid similarity and head probabilities (sum to 1). */
  knn: number;
  centroid: number;
  head: number;
  /** Neighbours that vote. */
  k: number;
  /** Softmax temperatures turning similarities into distributions. */
  knnTemperature: number;
  centroidTemperature: number;
}

export interface LabelledHit {
  label: number;
  similarity: number;
}

/** Similarity-weighted vote of the k nearest neighbours, as a distribution over labels. */
export function knnDistribution(hits: readonly LabelledHit[], labelCount: number, k: number, temperature: number): Float64Array {
  const out = new Float64Array(labelCount);
  const n = Math.min(k, hits.length);
  if (n === 0) return out.fill(1 / labelCount);
  const top = hits[0].similarity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.exp((hits[i].similarity - top) / temperature);
    out[hits[i].label] += w;
    sum += w;
  }
  for (let l = 0; l < labelCount; l++) out[l] /= sum;
  return out;
}

/** Softmax over per-label best-centroid similarity. */
export function centroidDistribution(similarities: Float64Array, temperature: number): Float64Array {
  return softmax(similarities, temperature);
}

export function combine(parts: { knn: Float64Array; centroid: Float64Array; head: Float64Array }, c: Combination, out = new Float64Array(parts.head.length)): Float64Array {
  for (let l = 0; l < out.length; l++) out[l] = c.knn * parts.knn[l] + c.centroid * parts.centroid[l] + c.head * parts.head[l];
  return out;
}

/** The full stage's scores with the static stage's blended in at `weight` (manifest `stages.static.blend`). */
export function blendScores(full: ArrayLike<number>, fast: ArrayLike<number>, weight: number, out = new Float64Array(full.length)): Float64Array {
  for (let l = 0; l < out.length; l++) out[l] = (1 - weight) * full[l] + weight * fast[l];
  return out;
}

/** Top label, its score, and the margin over the runner-up. */
export function decide(scores: ArrayLike<number>): { best: number; second: number; confidence: number; margin: number } {
  let best = 0;
  let second = -1;
  for (let l = 1; l < scores.length; l++) {
    if (scores[l] > scores[best]) {
      second = best;
      best = l;
    } else if (second < 0 || scores[l] > scores[second]) second = l;
  }
  const runnerUp = second >= 0 ? scores[second] : 0;
  return { best, second, confidence: scores[best], margin: scores[best] - runnerUp };
}
