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
 * Neighbour lists of many rows in flat typed arrays, nearest first: row r's list is
 * `ids/similarity[r·stride, r·stride + counts[r])`. Cross-validation keeps one per fold partition; as
 * arrays of `Hit` objects they took ~25 times the memory (MMLU, 5 partitions: ~350 MB of heap).
 */
export interface NeighbourRows {
  stride: number;
  ids: Int32Array;
  similarity: Float64Array;
  counts: Int32Array;
}

/** Room for `count` rows of up to `stride` neighbours each. */
export function neighbourRows(count: number, stride: number): NeighbourRows {
  return { stride, ids: new Int32Array(count * stride), similarity: new Float64Array(count * stride), counts: new Int32Array(count) };
}

/** Writes `hits` (at most `rows.stride` of them) as row `r`. */
export function setNeighbourRow(rows: NeighbourRows, r: number, hits: readonly Hit[]): void {
  hits.forEach((h, j) => {
    rows.ids[r * rows.stride + j] = h.id;
    rows.similarity[r * rows.stride + j] = h.similarity;
  });
  rows.counts[r] = hits.length;
}

/** `lists` packed into NeighbourRows (stride: the longest list). */
export function packNeighbours(lists: readonly (readonly Hit[])[]): NeighbourRows {
  const rows = neighbourRows(lists.length, Math.max(0, ...lists.map((l) => l.length)));
  lists.forEach((list, r) => setNeighbourRow(rows, r, list));
  return rows;
}

/**
 * kNN-weighted success rate per model, smoothed toward the global rate:
 * (Σ wᵢ·sᵢₘ + α·gₘ) / (Σ wᵢ + α), over neighbours whose score for m is known.
 * `scores` is row-major (row × models); NaN = unknown.
 */
export function knnSuccess(hits: readonly Hit[], scores: Float64Array, prior: Float64Array, params: KnnParams, out: Float64Array = new Float64Array(prior.length)): Float64Array {
  return knnSuccessAt(packNeighbours([hits]), 0, scores, prior, params, out);
}

/** knnSuccess over row `row` of packed neighbour lists (cross-validation's out-of-fold neighbours). */
export function knnSuccessAt(
  rows: NeighbourRows,
  row: number,
  scores: Float64Array,
  prior: Float64Array,
  params: KnnParams,
  out: Float64Array = new Float64Array(prior.length),
): Float64Array {
  const models = prior.length;
  const start = row * rows.stride;
  const n = Math.min(params.k, rows.counts[row]);
  for (let m = 0; m < models; m++) {
    let num = params.smoothing * prior[m];
    let den = params.smoothing;
    for (let i = start; i < start + n; i++) {
      const s = scores[rows.ids[i] * models + m];
      if (Number.isNaN(s)) continue;
      const w = Math.exp(params.sharpness * (rows.similarity[i] - 1));
      num += w * s;
      den += w;
    }
    out[m] = den > 0 ? num / den : prior[m];
  }
  return out;
}
