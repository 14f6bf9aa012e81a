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

/** Label-major logits, for training (which updates the label-major weights in place, so the head's feature-major copy would go stale). */
function rowLogits(head: SoftmaxHead, x: HeadInput, out: Float64Array): Float64Array {
  const { sparse } = x;
  const w = head.weights;
  head.denseLogits(x.dense, out);
  for (let l = 0; l < head.labels; l++) {
    const off = l * head.width + head.denseDims;
    for (let k = 0; k < sparse.indices.length; k++) out[l] += w[off + sparse.indices[k]] * sparse.values[k];
  }
  return out;
}
