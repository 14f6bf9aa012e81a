import { WorkerPool, trainThreads } from "../common/worker-pool.js";
import { SoftmaxHead, type HeadInput, type HeadParams } from "../model/head.js";
import { fitSoftmaxHead } from "./head-fit.js";
import { jobBuffers, packHeadJob, type HeadJob } from "./head-job.js";

/**
 * Trains softmax heads on worker threads. Head SGD is about four fifths of training time and the
 * folds of a cross-validation are independent, so on a multi-core machine they train side by side.
 * A worker runs exactly fitSoftmaxHead, so a head comes out the same wherever it was trained.
 * TRIAGE_TRAIN_THREADS caps the workers (common/worker-pool.ts); 1 (or a single core) trains on the calling thread.
 */
export async function trainHead(inputs: readonly HeadInput[], targets: readonly number[], labels: number, sparseDims: number, params: HeadParams): Promise<SoftmaxHead> {
  const denseDims = inputs[0]?.dense.length ?? 0;
  if (trainThreads() > 1) {
    try {
      const { weights, bias } = await pool().run(packHeadJob(inputs, targets, labels, sparseDims, params));
      return new SoftmaxHead(labels, denseDims, sparseDims, params.denseScale, weights, bias);
    } catch (err) {
      pool().warnFallback("training heads", err as Error);
    }
  }
  return fitSoftmaxHead(inputs, targets, labels, sparseDims, params);
}

let shared: WorkerPool<HeadJob, TrainedWeights> | undefined;
const pool = () => (shared ??= new WorkerPool(trainThreads(), new URL("./head-worker", import.meta.url), jobBuffers));

interface TrainedWeights {
  weights: Float32Array;
  bias: Float32Array;
}
