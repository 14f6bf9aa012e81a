/**
 * @module A logistic-heads fit (logistic.ts) as flat typed arrays, so it crosses to a worker thread by
 * transfer instead of by copy, and the fitted heads come back the same way.
 */
import type { LogisticModel, LogisticParams } from "./logistic.js";

export interface LogisticJob {
  rows: number;
  dimensions: number;
  /** Row-major inputs (rows × dimensions). */
  inputs: Float32Array;
  /** Row-major scores (rows × models); NaN = unknown. */
  scores: Float64Array;
  models: number;
  params: LogisticParams;
}

export function packLogisticJob(inputs: readonly Float32Array[], scores: readonly ArrayLike<number>[], models: number, params: LogisticParams): LogisticJob {
  const rows = inputs.length;
  const dimensions = inputs[0]?.length ?? 0;
  const flat = new Float32Array(rows * dimensions);
  const s = new Float64Array(rows * models);
  for (let r = 0; r < rows; r++) {
    flat.set(inputs[r], r * dimensions);
    for (let m = 0; m < models; m++) s[r * models + m] = scores[r][m];
  }
  // Only what fitLogistic reads (a HeadSpec also names its feature set).
  const { l2, epochs, learningRate } = params;
  return { rows, dimensions, inputs: flat, scores: s, models, params: { l2, epochs, learningRate } };
}

export function unpackLogisticJob(job: LogisticJob): { inputs: Float32Array[]; scores: Float64Array[] } {
  const { rows, dimensions, models } = job;
  return {
    inputs: Array.from({ length: rows }, (_, r) => job.inputs.subarray(r * dimensions, (r + 1) * dimensions)),
    scores: Array.from({ length: rows }, (_, r) => job.scores.subarray(r * models, (r + 1) * models)),
  };
}

export const logisticJobBuffers = (job: LogisticJob): ArrayBuffer[] => [job.inputs.buffer as ArrayBuffer, job.scores.buffer as ArrayBuffer];

export const logisticModelBuffers = (model: LogisticModel): ArrayBuffer[] => [model.weights.buffer as ArrayBuffer, model.bias.buffer as ArrayBuffer];
