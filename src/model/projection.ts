/**
 * @module A centred linear projection and applying it: what a model that reads a reduced embedding
 * carries (outcome heads, the fast path's training). Fitting one is training's (train/pca.ts), so
 * serving loads no linear-algebra library.
 */

/** A centred linear projection onto the top principal directions: y = P (x - mean). */
export interface Projection {
  /** k × D, row-major: one principal direction per row. */
  components: Float32Array;
  mean: Float32Array;
  inputDims: number;
  outputDims: number;
  /** Share of the sample's variance the kept directions carry. */
  varianceKept: number;
}

/** P (x - mean), optionally scaled to unit length. */
export function project(p: Projection, x: Float32Array, unit = false): Float32Array {
  const { inputDims: D, outputDims: k, components, mean } = p;
  const out = new Float32Array(k);
  let norm = 0;
  for (let r = 0; r < k; r++) {
    let s = 0;
    for (let d = 0, off = r * D; d < D; d++, off++) s += components[off] * (x[d] - mean[d]);
    out[r] = s;
    norm += s * s;
  }
  if (unit && norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let r = 0; r < k; r++) out[r] *= inv;
  }
  return out;
}
