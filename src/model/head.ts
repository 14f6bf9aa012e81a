import { seededRandom, shuffleInPlace } from "../common/random.js";
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

  /** Label-major logits, for training (which updates the label-major weights in place). */
  private rowLogits(x: HeadInput, out: Float64Array): Float64Array {
    const { sparse } = x;
    const w = this.weights;
    this.denseLogits(x.dense, out);
    for (let l = 0; l < this.labels; l++) {
      const off = l * this.width + this.denseDims;
      for (let k = 0; k < sparse.indices.length; k++) out[l] += w[off + sparse.indices[k]] * sparse.values[k];
    }
    return out;
  }

  /** Bias plus the dense block, row by row (contiguous, summed in a register), into `out`. */
  private denseLogits(dense: Float32Array, out: Float64Array): void {
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

  /**
   * Trains with per-example SGD on the cross-entropy, learning rate decaying as 1/(1 + t/n).
   * A step touches only the dense block and the buckets present in the example, and skips labels whose
   * gradient is negligible (most of them once the model is fitting): the cost that dominates on
   * many-label data.
   */
  static train(
    inputs: readonly HeadInput[],
    targets: readonly number[],
    labels: number,
    sparseDims: number,
    params: HeadParams = DEFAULT_HEAD,
  ): SoftmaxHead {
    const denseDims = inputs[0]?.dense.length ?? 0;
    const width = denseDims + sparseDims;
    const head = new SoftmaxHead(labels, denseDims, sparseDims, params.denseScale, new Float32Array(labels * width), new Float32Array(labels));
    const w = head.weights;
    const order = inputs.map((_, i) => i);
    const random = seededRandom(params.seed);
    const z = new Float64Array(labels);
    const ds = params.denseScale;
    const decay = 1 - params.l2;
    let step = 0;
    for (let epoch = 0; epoch < params.epochs; epoch++) {
      shuffleInPlace(order, random);
      for (const i of order) {
        const lr = params.learningRate / (1 + step++ / inputs.length);
        const x = inputs[i];
        head.rowLogits(x, z);
        let max = -Infinity;
        for (const v of z) max = Math.max(max, v);
        let sum = 0;
        for (let l = 0; l < labels; l++) {
          z[l] = Math.exp(z[l] - max);
          sum += z[l];
        }
        for (let l = 0; l < labels; l++) {
          const grad = z[l] / sum - (l === targets[i] ? 1 : 0);
          if (Math.abs(grad) < GRADIENT_SKIP) continue;
          const row = l * width;
          const gd = lr * grad * ds;
          for (let k = 0; k < denseDims; k++) w[row + k] = w[row + k] * decay - gd * x.dense[k];
          const off = row + denseDims;
          const gs = lr * grad;
          for (let k = 0; k < x.sparse.indices.length; k++) {
            const j = off + x.sparse.indices[k];
            w[j] = w[j] * decay - gs * x.sparse.values[k];
          }
          head.bias[l] -= lr * grad;
        }
      }
    }
    return head;
  }
}

/** The sparse block of (labels × width) row-major weights, as (sparseDims × labels) row-major. */
function sparseFeatureMajor(weights: Float32Array, labels: number, denseDims: number, sparseDims: number): Float32Array {
  const out = new Float32Array(labels * sparseDims);
  const width = denseDims + sparseDims;
  for (let l = 0; l < labels; l++) for (let i = 0, r = l * width + denseDims; i < sparseDims; i++) out[i * labels + l] = weights[r + i];
  return out;
}

/** Gradients smaller than this change nothing useful; skipping them makes late epochs cheap. */
const GRADIENT_SKIP = 2e-3;
