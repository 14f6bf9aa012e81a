/**
 * @module Per-label centroids: the set a model stores and the similarity the router scores with.
 * Fitting them (k-means) is train/centroids.ts.
 */
export interface CentroidSet {
  /** Unit vectors, concatenated: count × dims. */
  vectors: Float32Array;
  /** Label index of each centroid. */
  labels: Int32Array;
  dims: number;
}

export interface CentroidParams {
  /** Upper bound on centroids per label (multi-modal labels, e.g. a tier holding very different queries). */
  maxPerLabel: number;
  /** At least this many examples per centroid. */
  minExamplesPerCentroid: number;
  seed: number;
}

export const DEFAULT_CENTROIDS: CentroidParams = { maxPerLabel: 4, minExamplesPerCentroid: 25, seed: 11 };

/** Best centroid similarity per label (-1 for a label without centroids). */
export function centroidScores(set: CentroidSet, v: Float32Array, labelCount: number, out = new Float64Array(labelCount)): Float64Array {
  out.fill(-1);
  const { vectors, dims } = set;
  for (let c = 0; c < set.labels.length; c++) {
    let s = 0;
    const off = c * dims;
    for (let i = 0; i < dims; i++) s += vectors[off + i] * v[i];
    const l = set.labels[c];
    if (s > out[l]) out[l] = s;
  }
  return out;
}
