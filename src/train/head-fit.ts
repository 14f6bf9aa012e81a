/**
 * @module Fitting the softmax head (model/head.ts holds the head itself and its inference). The worker
 * threads of head-pool.ts run exactly this function, so a head comes out the same wherever it trained.
 */
import { seededRandom, shuffleInPlace } from "../common/random.js";
import { DEFAULT_HEAD, SoftmaxHead, type HeadInput, type HeadParams } from "../model/head.js";

/** Gradients smaller than this change nothing useful; skipping them makes late epochs cheap. */
const GRADIENT_SKIP = 2e-3;

/**
 * Trains with per-example SGD on the cross-entropy, learning rate decaying as 1/(1 + t/n).
 * A step touches only the dense block and the buckets present in the example, and skips labels whose
 * gradient is negligible (most of them once the model is fitting): the cost that dominates on
 * many-label data.
 */
export function fitSoftmaxHead(inputs: readonly HeadInput[], targets: readonly number[], labels: number, sparseDims: number, params: HeadParams = DEFAULT_HEAD): SoftmaxHead {
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
      const { dense } = x;
      const { indices, values } = x.sparse;
      rowLogits(head, x, z);
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
        for (let k = 0, j = row; k < denseDims; k++, j++) w[j] = w[j] * decay - gd * dense[k];
        const off = row + denseDims;
        const gs = lr * grad;
        for (let k = 0; k < indices.length; k++) {
          const j = off + indices[k];
          w[j] = w[j] * decay - gs * values[k];
        }
        head.bias[l] -= lr * grad;
      }
    }
  }
  return head;
}

/**
 * Label-major logits, for training (which updates the label-major weights in place, so the head's
 * feature-major copy would go stale). The dense dot product keeps four partial sums: one running sum
 * waits on each add's latency, four keep the CPU's adders busy (about twice as fast in V8).
 */
function rowLogits(head: SoftmaxHead, x: HeadInput, out: Float64Array): Float64Array {
  const { sparse, dense } = x;
  const w = head.weights;
  const bias = head.bias;
  const width = head.width;
  const D = head.denseDims;
  const D4 = D - (D % 4);
  const ds = head.denseScale;
  const idx = sparse.indices;
  const val = sparse.values;
  for (let l = 0; l < head.labels; l++) {
    const row = l * width;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (let j = row; i < D4; i += 4, j += 4) {
      s0 += w[j] * dense[i];
      s1 += w[j + 1] * dense[i + 1];
      s2 += w[j + 2] * dense[i + 2];
      s3 += w[j + 3] * dense[i + 3];
    }
    for (; i < D; i++) s0 += w[row + i] * dense[i];
    let sp = 0;
    const off = row + D;
    for (let k = 0; k < idx.length; k++) sp += w[off + idx[k]] * val[k];
    out[l] = bias[l] + (s0 + s1 + (s2 + s3)) * ds + sp;
  }
  return out;
}
