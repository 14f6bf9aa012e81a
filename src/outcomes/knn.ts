import type { Hit } from "../model/hnsw.js";

/** How neighbours' outcomes turn into a per-model success estimate. Chosen by cross-validation. */
export interface KnnParams {
  /** Neighbours consulted. */
  k: number;
  /** Pseudo-count pulling the estimate toward the model's global success rate (in neighbour-weight units). */
  smoothing: number;
  /** Weight = exp(sharpness · (similarity − 1)): 0 treats the k neighbours alike, larger favours the closest. */
  sharpness: number;
}

/**
 * kNN-weighted success rate per model, smoothed toward the global rate:
 * (Σ wᵢ·sᵢₘ + α·gₘ) / (Σ wᵢ + α), over neighbours whose score for m is known.
 * `scores` is row-major (row × models); NaN = unknown.
 */
export function knnSuccess(hits: readonly Hit[], scores: Float64Array, prior: Float64Array, params: KnnParams, out: Float64Array = new Float64Array(prior.length)): Float64Array {
  const models = prior.length;
  const n = Math.min(params.k, hits.length);
  for (let m = 0; m < models; m++) {
    let num = params.smoothing * prior[m];
    let den = params.smoothing;
    for (let i = 0; i < n; i++) {
      const s = scores[hits[i].id * models + m];
      if (Number.isNaN(s)) continue;
      const w = Math.exp(params.sharpness * (hits[i].similarity - 1));
      num += w * s;
      den += w;
    }
    out[m] = den > 0 ? num / den : prior[m];
  }
  return out;
}
