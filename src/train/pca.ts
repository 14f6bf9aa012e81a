import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import type { Projection } from "../model/projection.js";

export { project, type Projection } from "../model/projection.js";

/** Rows used to estimate the covariance: enough for 512 dimensions, and a D² × n cost that stays small. */
const MAX_SAMPLE = 4000;

/** Principal directions of the vectors (the first `maxSample` of them), largest variance first. */
export function fitPca(vectors: readonly Float32Array[], outputDims: number, maxSample = MAX_SAMPLE): Projection {
  const D = vectors[0].length;
  const sample = vectors.slice(0, maxSample);
  const n = sample.length;
  const mean = new Float64Array(D);
  for (const v of sample) for (let d = 0; d < D; d++) mean[d] += v[d] / n;
  // Covariance (upper triangle, mirrored): the D² × n multiply-adds dominate, so plain typed-array loops.
  const cov = new Float64Array(D * D);
  const x = new Float64Array(D);
  for (const v of sample) {
    for (let d = 0; d < D; d++) x[d] = v[d] - mean[d];
    for (let i = 0; i < D; i++) {
      const xi = x[i] / n;
      for (let j = i, off = i * D + i; j < D; j++, off++) cov[off] += xi * x[j];
    }
  }
  const rows: number[][] = [];
  for (let i = 0; i < D; i++) {
    const row = new Array<number>(D);
    for (let j = 0; j < D; j++) row[j] = i <= j ? cov[i * D + j] : cov[j * D + i];
    rows.push(row);
  }
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const k = Math.min(outputDims, D);
  const components = new Float32Array(k * D);
  order.slice(0, k).forEach((col, r) => components.set(evd.eigenvectorMatrix.getColumn(col), r * D));
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const kept = order.slice(0, k).reduce((s, i) => s + Math.max(values[i], 0), 0);
  return { components, mean: Float32Array.from(mean), inputDims: D, outputDims: k, varianceKept: total > 0 ? kept / total : 1 };
}
