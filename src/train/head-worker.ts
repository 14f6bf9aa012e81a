import { parentPort } from "node:worker_threads";
import { fitSoftmaxHead } from "./head-fit.js";
import { unpackHeadJob, type HeadJob } from "./head-job.js";

// Trains one softmax head per message, off the main thread (see head-pool.ts).
parentPort?.on("message", (job: HeadJob) => {
  const { inputs, targets, labels, sparseDims, params } = unpackHeadJob(job);
  const head = fitSoftmaxHead(inputs, targets, labels, sparseDims, params);
  parentPort?.postMessage({ weights: head.weights, bias: head.bias }, [head.weights.buffer as ArrayBuffer, head.bias.buffer as ArrayBuffer]);
});
