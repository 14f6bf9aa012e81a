import { seededRandom, shuffleInPlace } from "../common/vector.js";
import type { SparseVector } from "../encoders/lexical.js";

/** One training/inference row for the head: a dense sentence embedding and sparse lexical features. */
export interface HeadInput {
  dense: Float32Array;
  sparse: SparseVector;
}

export interface HeadParams {
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weights touched by each step. */
  l2: number;
  /** Scale of the dense block relative to the (unit-norm) lexical block. */
  denseScale: number;
  seed: number;
}

export const DEFAULT_HEAD: HeadParams = { epochs: 12, learningRate: 0.5, l2: 1e-6, denseScale: 1, seed: 7 };

/**
 * Multinomial logistic regression over [dense embedding ; hashed lexical features].
 * Weights are one row per label: [dense dims | sparse buckets], then a bias per label.
 */
export class SoftmaxHead {
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

  /** Raw per-label scores (logits) into `out`. */
  logits(x: HeadInput, out: Float64Array = new Float64Array(this.labels)): Float64Array {
    const { dense, sparse } = x;
    const w = this.weights;
    const width = this.width;
    for (let l = 0; l < this.labels; l++) {
      const row = l * width;
      let s = this.bias[l];
      let d = 0;
      for (let i = 0; i < this.denseDims; i++) d += w[row + i] * dense[i];
      s += d * this.denseScale;
      const off = row + this.denseDims;
      for (let k = 0; k < sparse.indices.length; k++) s += w[off + sparse.indices[k]] * sparse.values[k];
      out[l] = s;
    }
    return out;
  }

  probabilities(x: HeadInput): Float64Array {
    const z = this.logits(x);
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v);
    let sum = 0;
    for (let l = 0; l < z.length; l++) {
      z[l] = Math.exp(z[l] - max);
      sum += z[l];
    }
    for (let l = 0; l < z.length; l++) z[l] /= sum;
    return z;
  }

  /**
   * Trains with per-example SGD and AdaGrad step sizes (sparse-friendly: a step touches only the
   * dense block and the buckets present in the example), L2 applied to what a step touches.
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
    const g2 = new Float32Array(labels * width).fill(1e-8);
    const g2b = new Float64Array(labels).fill(1e-8);
    const order = inputs.map((_, i) => i);
    const random = seededRandom(params.seed);
    const z = new Float64Array(labels);
    const lr = params.learningRate;
    const ds = params.denseScale;
    for (let epoch = 0; epoch < params.epochs; epoch++) {
      shuffleInPlace(order, random);
      for (const i of order) {
        const x = inputs[i];
        head.logits(x, z);
        let max = -Infinity;
        for (const v of z) max = Math.max(max, v);
        let sum = 0;
        for (let l = 0; l < labels; l++) {
          z[l] = Math.exp(z[l] - max);
          sum += z[l];
        }
        for (let l = 0; l < labels; l++) {
          const grad = z[l] / sum - (l === targets[i] ? 1 : 0);
          if (Math.abs(grad) < 1e-6) continue;
          const row = l * width;
          const w = head.weights;
          for (let k = 0; k < denseDims; k++) {
            const j = row + k;
            const g = grad * x.dense[k] * ds + params.l2 * w[j];
            g2[j] += g * g;
            w[j] -= (lr * g) / Math.sqrt(g2[j]);
          }
          const off = row + denseDims;
          for (let k = 0; k < x.sparse.indices.length; k++) {
            const j = off + x.sparse.indices[k];
            const g = grad * x.sparse.values[k] + params.l2 * w[j];
            g2[j] += g * g;
            w[j] -= (lr * g) / Math.sqrt(g2[j]);
          }
          g2b[l] += grad * grad;
          head.bias[l] -= (lr * grad) / Math.sqrt(g2b[l]);
        }
      }
    }
    return head;
  }
}
