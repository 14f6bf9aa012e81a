/**
 * @module Fitting the softmax head (model/head.ts holds the head itself and its inference). The worker
 * threads of head-pool.ts run exactly this function, so a head comes out the same wherever it trained.
 */
import { seededRandom, shuffleInPlace } from "../common/random.js";
import { DEFAULT_HEAD, SoftmaxHead, type HeadInput, type HeadParams } from "../model/head.js";

/** Gradients smaller than this change nothing useful; skipping them makes late epochs cheap. */
const GRADIENT_SKIP = 2e-3;

/**
 * Trains with per-example SGD on the cross-entropy (against label-smoothed targets when
 * `params.labelSmoothing` is set), learning rate decaying as 1/(1 + t/n).
 * A step touches only the dense block and the buckets present in the example, and skips labels whose
 * gradient is negligible (most of them once the model is fitting): the cost that dominates on
 * many-label data.
 *
 * While training, the sparse block is kept feature-major (bucket × label): a step's features then
 * read and write one contiguous run of `labels` floats each, instead of one cache miss per (feature,
 * label) in the label-major rows (labels × 32k buckets is ~20 MB on 150 labels). Every weight sees
 * the same arithmetic in the same order, so the head is bit-for-bit the one label-major SGD fits.
 */
export function fitSoftmaxHead(inputs: readonly HeadInput[], targets: readonly number[], labels: number, sparseDims: number, params: HeadParams = DEFAULT_HEAD): SoftmaxHead {
  const denseDims = inputs[0]?.dense.length ?? 0;
  const D = denseDims;
  const L = labels;
  /** Label-major dense block (labels × denseDims) and feature-major sparse block (sparseDims × labels). */
  const dw = new Float32Array(L * D);
  const sw = new Float32Array(sparseDims * L);
  const bias = new Float32Array(L);
  const order = inputs.map((_, i) => i);
  const random = seededRandom(params.seed);
  const z = new Float64Array(L);
  const sp = new Float64Array(L);
  const ds = params.denseScale;
  const decay = 1 - params.l2;
  // Label smoothing's ε / L share of every label's target adds the same step to every label's weights,
  // which changes no probability (softmax ignores a common shift), so only the true label's target
  // moves, to 1 - ε: the other labels' gradients stay p_l and the skip below still skips them.
  const smoothing = params.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`head params: labelSmoothing must be in [0, 1), got ${smoothing}`);
  const hit = 1 - smoothing;
  let step = 0;
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    shuffleInPlace(order, random);
    for (const i of order) {
      const lr = params.learningRate / (1 + step++ / inputs.length);
      const { dense } = inputs[i];
      const { indices, values } = inputs[i].sparse;
      logits(dw, sw, bias, L, D, ds, dense, indices, values, sp, z);
      let max = -Infinity;
      for (let l = 0; l < L; l++) max = Math.max(max, z[l]);
      let sum = 0;
      for (let l = 0; l < L; l++) {
        z[l] = Math.exp(z[l] - max);
        sum += z[l];
      }
      const target = targets[i];
      for (let l = 0; l < L; l++) {
        const grad = z[l] / sum - (l === target ? hit : 0);
        if (Math.abs(grad) < GRADIENT_SKIP) continue;
        const gd = lr * grad * ds;
        for (let k = 0, j = l * D; k < D; k++, j++) dw[j] = dw[j] * decay - gd * dense[k];
        const gs = lr * grad;
        for (let k = 0; k < indices.length; k++) {
          const j = indices[k] * L + l;
          sw[j] = sw[j] * decay - gs * values[k];
        }
        bias[l] -= lr * grad;
      }
    }
  }
  return new SoftmaxHead(L, D, sparseDims, ds, labelMajor(dw, sw, L, D, sparseDims), bias);
}

/**
 * Logits into `out`: bias + dense · scale + sparse, the dense dot product in four partial sums (one
 * running sum waits on each add's latency, four keep the CPU's adders busy: about twice as fast in V8),
 * the sparse sum accumulated per label in feature order, as the label-major loop adds it.
 */
function logits(
  dw: Float32Array,
  sw: Float32Array,
  bias: Float32Array,
  L: number,
  D: number,
  ds: number,
  dense: Float32Array,
  indices: Int32Array,
  values: Float32Array,
  sp: Float64Array,
  out: Float64Array,
): void {
  sp.fill(0);
  for (let k = 0; k < indices.length; k++) {
    const v = values[k];
    for (let l = 0, j = indices[k] * L; l < L; l++, j++) sp[l] += sw[j] * v;
  }
  // Two labels at a time: each dense value loaded once serves both rows; each label keeps its own
  // four partial sums in the same order, so its logit is the one a label-at-a-time loop computes.
  const D4 = D - (D % 4);
  let l = 0;
  for (; l + 1 < L; l += 2) {
    const r0 = l * D;
    const r1 = r0 + D;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    let i = 0;
    for (; i < D4; i += 4) {
      const x0 = dense[i];
      const x1 = dense[i + 1];
      const x2 = dense[i + 2];
      const x3 = dense[i + 3];
      a0 += dw[r0 + i] * x0;
      a1 += dw[r0 + i + 1] * x1;
      a2 += dw[r0 + i + 2] * x2;
      a3 += dw[r0 + i + 3] * x3;
      b0 += dw[r1 + i] * x0;
      b1 += dw[r1 + i + 1] * x1;
      b2 += dw[r1 + i + 2] * x2;
      b3 += dw[r1 + i + 3] * x3;
    }
    for (; i < D; i++) {
      a0 += dw[r0 + i] * dense[i];
      b0 += dw[r1 + i] * dense[i];
    }
    out[l] = bias[l] + (a0 + a1 + (a2 + a3)) * ds + sp[l];
    out[l + 1] = bias[l + 1] + (b0 + b1 + (b2 + b3)) * ds + sp[l + 1];
  }
  for (; l < L; l++) {
    const row = l * D;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (let j = row; i < D4; i += 4, j += 4) {
      s0 += dw[j] * dense[i];
      s1 += dw[j + 1] * dense[i + 1];
      s2 += dw[j + 2] * dense[i + 2];
      s3 += dw[j + 3] * dense[i + 3];
    }
    for (; i < D; i++) s0 += dw[row + i] * dense[i];
    out[l] = bias[l] + (s0 + s1 + (s2 + s3)) * ds + sp[l];
  }
}

/** The head's labels × (denseDims + sparseDims) row-major weights from the two training blocks. */
function labelMajor(dw: Float32Array, sw: Float32Array, L: number, D: number, S: number): Float32Array {
  const width = D + S;
  const out = new Float32Array(L * width);
  for (let l = 0; l < L; l++) {
    out.set(dw.subarray(l * D, (l + 1) * D), l * width);
    for (let b = 0, r = l * width + D; b < S; b++) out[r + b] = sw[b * L + l];
  }
  return out;
}
