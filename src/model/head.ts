import { softmax } from "../common/vector.js";
import type { SparseVector } from "./lexical.js";

/** One training/inference row for the head: a dense sentence embedding and sparse lexical features. */
export interface HeadInput {
  dense: Float32Array;
  sparse: SparseVector;
}

export interface HeadParams {
  epochs: number;
  learningRate: number;
  /** Weight decay applied to the weights a step touches. */
  l2: number;
  /** Scale of the dense block relative to the (unit-norm) lexical block. */
  denseScale: number;
  seed: number;
  /** Label smoothing ε: training targets are (1 - ε) one-hot + ε / labels (absent: 0, plain one-hot). */
  labelSmoothing?: number;
}

export const DEFAULT_HEAD: HeadParams = { epochs: 10, learningRate: 1, l2: 1e-6, denseScale: 1, seed: 7 };

/**
 * Multinomial logistic regression over [dense embedding ; hashed lexical features].
 * Weights are one row per label: [dense dims | sparse buckets], then a bias per label.
 */
export class SoftmaxHead {
  /** Feature-major copy of the sparse block, built on first use (inference only; training never reads it). */
  private sparseColumns: Float32Array | undefined;

  constructor(
    readonly labels: number,
    readonly denseDims: number,
    readonly sparseDims: number,
    readonly denseScale: number,
    /** labels × (denseDims + sparseDims) weights, row-major. */
    readonly weights: Float32Array,
    readonly bias: Float32Array,
  ) {}

  get width(): number {
    return this.denseDims + this.sparseDims;
  }

  /**
   * Raw per-label scores (logits) into `out`. The dense block is read row by row (contiguous, summed in a
   * register); the sparse block from a feature-major copy, so each feature touches one contiguous run of
   * `labels` floats instead of costing a cache miss per (feature, label) in the label-major rows.
   */
  logits(x: HeadInput, out: Float64Array = new Float64Array(this.labels)): Float64Array {
    const columns = (this.sparseColumns ??= sparseFeatureMajor(this.weights, this.labels, this.denseDims, this.sparseDims));
    const L = this.labels;
    const { sparse } = x;
    this.denseLogits(x.dense, out);
    for (let k = 0; k < sparse.indices.length; k++) {
      const v = sparse.values[k];
      for (let l = 0, j = sparse.indices[k] * L; l < L; l++, j++) out[l] += columns[j] * v;
    }
    return out;
  }

  /** Bias plus the dense block, row by row (contiguous, summed in a register), into `out`. */
  denseLogits(dense: Float32Array, out: Float64Array): void {
    const w = this.weights;
    const width = this.width;
    const D = this.denseDims;
    for (let l = 0; l < this.labels; l++) {
      let d = 0;
      for (let i = 0, j = l * width; i < D; i++, j++) d += w[j] * dense[i];
      out[l] = this.bias[l] + d * this.denseScale;
    }
  }

  probabilities(x: HeadInput): Float64Array {
    return softmax(this.logits(x));
  }
}

/** The sparse block of (labels × width) row-major weights, as (sparseDims × labels) row-major. */
function sparseFeatureMajor(weights: Float32Array, labels: number, denseDims: number, sparseDims: number): Float32Array {
  const out = new Float32Array(labels * sparseDims);
  const width = denseDims + sparseDims;
  for (let l = 0; l < labels; l++) for (let i = 0, r = l * width + denseDims; i < sparseDims; i++) out[i * labels + l] = weights[r + i];
  return out;
}
