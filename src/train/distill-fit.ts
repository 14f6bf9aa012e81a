import { shuffleInPlace } from "../common/random.js";
import type { StaticEncoderParameters } from "../encoders/static.js";

/**
 * The regression inside distillation: minibatch Adam on 1 - cos(s, t), where
 * s = bias + (1/n) * sum_k w[id_k] * E[id_k] and t is the teacher's unit vector.
 * Only the rows a batch touches are updated ("lazy" Adam), so an epoch costs O(tokens x D), not O(V x D).
 */

export interface Example {
  ids: Int32Array;
  target: Float32Array;
}

export interface AdamState {
  learningRate: number;
  step: number;
  mTable: Float32Array;
  vTable: Float32Array;
  mWeights: Float32Array;
  vWeights: Float32Array;
  mBias: Float32Array;
  vBias: Float32Array;
  /** Per-batch gradient scratch (rows zeroed after use) and which rows it holds. */
  gTable: Float32Array;
  gWeights: Float32Array;
  gBias: Float64Array;
  touched: Int32Array;
  isTouched: Uint8Array;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export function createAdam(V: number, D: number, learningRate: number): AdamState {
  return {
    learningRate,
    step: 0,
    mTable: new Float32Array(V * D),
    vTable: new Float32Array(V * D),
    mWeights: new Float32Array(V),
    vWeights: new Float32Array(V),
    mBias: new Float32Array(D),
    vBias: new Float32Array(D),
    gTable: new Float32Array(V * D),
    gWeights: new Float32Array(V),
    gBias: new Float64Array(D),
    touched: new Int32Array(V),
    isTouched: new Uint8Array(V),
  };
}

/** s = bias + weighted mean of rows, written into `s` (length D). */
function sentenceSum(p: StaticEncoderParameters, ids: Int32Array, s: Float64Array): void {
  const D = p.dimensions;
  for (let d = 0; d < D; d++) s[d] = p.bias[d];
  const { table, tokenWeights } = p;
  const n = ids.length;
  for (let k = 0; k < n; k++) {
    const row = ids[k];
    const c = tokenWeights[row] / n;
    for (let d = 0, off = row * D; d < D; d++, off++) s[d] += c * table[off];
  }
}

function cosine(s: Float64Array, target: Float32Array): { cos: number; norm: number } {
  let norm = 0;
  let dot = 0;
  for (let d = 0; d < s.length; d++) {
    norm += s[d] * s[d];
    dot += s[d] * target[d];
  }
  norm = Math.sqrt(norm);
  return { cos: norm > 0 ? dot / norm : 0, norm };
}

export function heldOutCosine(p: StaticEncoderParameters, examples: readonly Example[]): number {
  const s = new Float64Array(p.dimensions);
  let sum = 0;
  for (const e of examples) {
    sentenceSum(p, e.ids, s);
    sum += cosine(s, e.target).cos;
  }
  return sum / examples.length;
}

export function fitEpoch(p: StaticEncoderParameters, train: readonly Example[], adam: AdamState, batchSize: number, random: () => number): void {
  const order = shuffleInPlace(
    Array.from({ length: train.length }, (_, i) => i),
    random,
  );
  const D = p.dimensions;
  const { table, tokenWeights } = p;
  const { gTable } = adam;
  const s = new Float64Array(D);
  const gs = new Float64Array(D);
  for (let b = 0; b < order.length; b += batchSize) {
    const end = Math.min(order.length, b + batchSize);
    const scale = 1 / (end - b); // mean loss over the batch
    let nTouched = 0;
    for (let i = b; i < end; i++) {
      const { ids, target } = train[order[i]];
      sentenceSum(p, ids, s);
      const { cos, norm } = cosine(s, target);
      if (norm === 0) continue;
      // d(1 - cos)/ds = -(t - cos * s/|s|) / |s|
      for (let d = 0; d < D; d++) gs[d] = (-(target[d] - (cos * s[d]) / norm) / norm) * scale;
      for (let d = 0; d < D; d++) adam.gBias[d] += gs[d];
      const n = ids.length;
      for (let k = 0; k < n; k++) {
        const row = ids[k];
        if (!adam.isTouched[row]) {
          adam.isTouched[row] = 1;
          adam.touched[nTouched++] = row;
        }
        const c = tokenWeights[row] / n;
        let gw = 0;
        for (let d = 0, off = row * D; d < D; d++, off++) {
          gw += table[off] * gs[d];
          gTable[off] += c * gs[d];
        }
        adam.gWeights[row] += gw / n;
      }
    }
    applyAdam(p, adam, nTouched);
  }
}

function applyAdam(p: StaticEncoderParameters, adam: AdamState, nTouched: number): void {
  const D = p.dimensions;
  adam.step++;
  const lr = (adam.learningRate * Math.sqrt(1 - BETA2 ** adam.step)) / (1 - BETA1 ** adam.step);
  // Plain loops over local typed arrays: this runs for every touched row of every batch.
  const { table } = p;
  const { mTable, vTable, gTable } = adam;
  for (let t = 0; t < nTouched; t++) {
    const row = adam.touched[t];
    for (let i = row * D, end = i + D; i < end; i++) {
      const g = gTable[i];
      const m = (mTable[i] = BETA1 * mTable[i] + (1 - BETA1) * g);
      const v = (vTable[i] = BETA2 * vTable[i] + (1 - BETA2) * g * g);
      table[i] -= (lr * m) / (Math.sqrt(v) + EPSILON);
      gTable[i] = 0;
    }
    adamScalar(p.tokenWeights, adam.mWeights, adam.vWeights, adam.gWeights, row, lr);
    adam.isTouched[row] = 0;
  }
  for (let d = 0; d < D; d++) adamScalar(p.bias, adam.mBias, adam.vBias, adam.gBias, d, lr);
}

function adamScalar(x: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array | Float64Array, i: number, lr: number): void {
  const grad = g[i];
  m[i] = BETA1 * m[i] + (1 - BETA1) * grad;
  v[i] = BETA2 * v[i] + (1 - BETA2) * grad * grad;
  x[i] -= (lr * m[i]) / (Math.sqrt(v[i]) + EPSILON);
  g[i] = 0;
}
