/** @module Fits one set of logistic heads per message, off the main thread (see logistic-pool.ts). */
import { parentPort } from "node:worker_threads";
import { fitLogistic } from "./logistic.js";
import { logisticModelBuffers, unpackLogisticJob, type LogisticJob } from "./logistic-job.js";

parentPort?.on("message", (job: LogisticJob) => {
  const { inputs, scores } = unpackLogisticJob(job);
  const model = fitLogistic(inputs, scores, job.models, job.params);
  parentPort?.postMessage(model, logisticModelBuffers(model));
});
