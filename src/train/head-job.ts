import type { HeadInput, HeadParams } from "../model/head.js";

/** A head-training job as flat typed arrays, so it crosses to a worker by transfer instead of by copy. */
export interface HeadJob {
  rows: number;
  denseDims: number;
  dense: Float32Array;
  /** Row r's sparse features are indices/values [offsets[r], offsets[r + 1]). */
  offsets: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  targets: Int32Array;
  labels: number;
  sparseDims: number;
  params: HeadParams;
}

export function packHeadJob(inputs: readonly HeadInput[], targets: readonly number[], labels: number, sparseDims: number, params: HeadParams): HeadJob {
  const rows = inputs.length;
  const denseDims = inputs[0]?.dense.length ?? 0;
  const dense = new Float32Array(rows * denseDims);
  const offsets = new Int32Array(rows + 1);
  inputs.forEach((x, r) => {
    dense.set(x.dense, r * denseDims);
    offsets[r + 1] = offsets[r] + x.sparse.indices.length;
  });
  const indices = new Int32Array(offsets[rows]);
  const values = new Float32Array(offsets[rows]);
  inputs.forEach((x, r) => {
    indices.set(x.sparse.indices, offsets[r]);
    values.set(x.sparse.values, offsets[r]);
  });
  return { rows, denseDims, dense, offsets, indices, values, targets: Int32Array.from(targets), labels, sparseDims, params };
}

export function unpackHeadJob(job: HeadJob): { inputs: HeadInput[]; targets: number[]; labels: number; sparseDims: number; params: HeadParams } {
  const inputs = Array.from({ length: job.rows }, (_, r) => ({
    dense: job.dense.subarray(r * job.denseDims, (r + 1) * job.denseDims),
    sparse: { indices: job.indices.subarray(job.offsets[r], job.offsets[r + 1]), values: job.values.subarray(job.offsets[r], job.offsets[r + 1]) },
  }));
  return { inputs, targets: Array.from(job.targets), labels: job.labels, sparseDims: job.sparseDims, params: job.params };
}

/** The buffers a job owns, to transfer. */
export function jobBuffers(job: HeadJob): ArrayBuffer[] {
  return [job.dense, job.offsets, job.indices, job.values, job.targets].map((a) => a.buffer as ArrayBuffer);
}
