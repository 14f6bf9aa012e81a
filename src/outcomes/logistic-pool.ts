/**
 * @module Fits logistic heads (logistic.ts) on worker threads. The heads are about nineteen twentieths of
 * an outcome model's cross-validation, and its folds are independent, so on a multi-core machine they
 * fit side by side. A worker runs exactly fitLogistic on the same numbers, so the heads come out the same
 * wherever they were fitted. TRIAGE_TRAIN_THREADS caps the workers (common/worker-pool.ts); with 1 (or
 * one core), or when a worker fails, they fit on the calling thread.
 */
import { WorkerPool, trainThreads } from "../common/worker-pool.js";
import { fitLogistic, type LogisticModel, type LogisticParams } from "./logistic.js";
import { logisticJobBuffers, packLogisticJob, type LogisticJob } from "./logistic-job.js";

/** A head's training rows: its inputs and each row's per-model scores. */
export interface LogisticData {
  inputs: readonly Float32Array[];
  scores: readonly ArrayLike<number>[];
}

/**
 * Fits heads on the rows `data()` builds. They are built only when a worker (or, failing one, this
 * thread) starts on them: cross-validation queues every fold of several settings at once, and built up
 * front their inputs took ~600 MB on MMLU's 14,042 prompts.
 */
export async function fitLogisticOffThread(data: () => LogisticData, models: number, params: LogisticParams, threads: number = trainThreads()): Promise<LogisticModel> {
  if (threads > 1) {
    let unbuilt: unknown;
    try {
      return await pool(threads).runWhenFree(() => {
        try {
          const { inputs, scores } = data();
          return packLogisticJob(inputs, scores, models, params);
        } catch (err) {
          unbuilt = err;
          throw err;
        }
      });
    } catch (err) {
      if (unbuilt !== undefined) throw unbuilt; // the rows, not a worker, failed: this thread would fail alike
      pool(threads).warnFallback("fitting outcome heads", err as Error);
    }
  }
  const { inputs, scores } = data();
  return fitLogistic(inputs, scores, models, params);
}

const pools = new Map<number, WorkerPool<LogisticJob, LogisticModel>>();
function pool(threads: number): WorkerPool<LogisticJob, LogisticModel> {
  let p = pools.get(threads);
  if (!p) pools.set(threads, (p = new WorkerPool(threads, new URL("./logistic-worker", import.meta.url), logisticJobBuffers)));
  return p;
}
