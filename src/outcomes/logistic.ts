/**
 * Per-model logistic regression on the prompt embedding (plus surface features, see outcome-features.ts): P(model m succeeds | prompt).
 * An alternative to the kNN estimate; evaluation picks whichever cross-validates better.
 * Scores are read as success probabilities, so they are clamped to [0, 1]; unknown (NaN) scores are skipped.
 */

export interface LogisticParams {
  /** L2 penalty on the weights (not the bias). */
  l2: number;
  epochs: number;
  learningRate: number;
}

export const DEFAULT_LOGISTIC: LogisticParams = { l2: 1e-3, epochs: 150, learningRate: 0.05 };

export interface LogisticModel {
  /** Row-major (model × dimensions). */
  weights: Float32Array;
  bias: Float64Array;
  dimensions: number;
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Full-batch Adam on the mean cross-entropy, one independent head per model. Deterministic (zero init). */
export function fitLogistic(vectors: readonly Float32Array[], scores: readonly ArrayLike<number>[], models: number, params: LogisticParams = DEFAULT_LOGISTIC): LogisticModel {
  const d = vectors[0]?.length ?? 0;
  const weights = new Float32Array(models * d);
  const bias = new Float64Array(models);
  const grad = new Float64Array(d);
  const m1 = new Float64Array(d + 1);
  const m2 = new Float64Array(d + 1);
  const b1 = 0.9;
  const b2 = 0.999;
  for (let m = 0; m < models; m++) {
    const rows: number[] = [];
    scores.forEach((s, i) => {
      if (!Number.isNaN(s[m])) rows.push(i);
    });
    if (rows.length === 0) {
      bias[m] = -10; // never seen to succeed or fail: predict failure, costs nothing to be cautious
      continue;
    }
    const y = rows.map((i) => Math.min(1, Math.max(0, scores[i][m])));
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const w = weights.subarray(m * d, (m + 1) * d);
    let b = Math.log((mean + 1e-3) / (1 - mean + 1e-3)); // start at the base rate
    m1.fill(0);
    m2.fill(0);
    for (let epoch = 1; epoch <= params.epochs; epoch++) {
      grad.fill(0);
      let gb = 0;
      for (let r = 0; r < rows.length; r++) {
        const x = vectors[rows[r]];
        let z = b;
        for (let k = 0; k < d; k++) z += w[k] * x[k];
        const e = sigmoid(z) - y[r];
        gb += e;
        for (let k = 0; k < d; k++) grad[k] += e * x[k];
      }
      const n = rows.length;
      const c1 = 1 - b1 ** epoch;
      const c2 = 1 - b2 ** epoch;
      for (let k = 0; k <= d; k++) {
        const g = k < d ? grad[k] / n + params.l2 * w[k] : gb / n;
        m1[k] = b1 * m1[k] + (1 - b1) * g;
        m2[k] = b2 * m2[k] + (1 - b2) * g * g;
        const step = (params.learningRate * (m1[k] / c1)) / (Math.sqrt(m2[k] / c2) + 1e-8);
        if (k < d) w[k] -= step;
        else b -= step;
      }
    }
    bias[m] = b;
  }
  return { weights, bias, dimensions: d };
}

export function predictLogistic(model: LogisticModel, x: Float32Array, out: Float64Array = new Float64Array(model.bias.length)): Float64Array {
  const d = model.dimensions;
  for (let m = 0; m < model.bias.length; m++) {
    let z = model.bias[m];
    const off = m * d;
    for (let k = 0; k < d; k++) z += model.weights[off + k] * x[k];
    out[m] = sigmoid(z);
  }
  return out;
}
