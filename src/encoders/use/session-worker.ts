/**
 * @module The worker thread that runs USE-Lite's ONNX session (see session-thread.ts): builds the graph, opens the
 * session, then answers one message per batch of token ids with the batch's unit-length vectors.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { normalize } from "../../common/vector.js";
import { cpuSessionOptions } from "../onnx/run.js";
import { buildUseOnnxModel, USE_DIMENSIONS } from "./graph.js";
import type { BatchReply, BatchRequest, CloseRequest, WorkerInit } from "./session-thread.js";

const port = parentPort;
const init = workerData as WorkerInit;

const errorOf = (err: unknown) => ({ message: (err as Error).message ?? String(err), code: (err as { code?: string }).code });

async function start(): Promise<void> {
  if (!port) return;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(buildUseOnnxModel(init.dir), cpuSessionOptions(init.threads));
  } catch (err) {
    port.postMessage({ ready: false, error: errorOf(err) });
    return;
  }
  const running = new Set<Promise<unknown>>();
  port.on("message", (req: BatchRequest | CloseRequest) => {
    if ("close" in req) {
      // Every run sent before the close finishes and answers; then the session goes and the thread ends.
      void Promise.allSettled([...running])
        .then(() => session.release())
        .finally(() => port.close());
      return;
    }
    const job = run(session, req).then((reply) => port.postMessage(reply, "vectors" in reply ? [reply.vectors.buffer as ArrayBuffer] : []));
    running.add(job);
    void job.finally(() => running.delete(job));
  });
  port.postMessage({ ready: true });
}

async function run(session: ort.InferenceSession, { id, ids, rows, seqLen }: BatchRequest): Promise<BatchReply> {
  const tokens = new BigInt64Array(rows * seqLen);
  const mask = new BigInt64Array(rows * seqLen);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0) continue; // padding
    tokens[i] = BigInt(ids[i]);
    mask[i] = 1n;
  }
  const feeds = { input_ids: new ort.Tensor("int64", tokens, [rows, seqLen]), attention_mask: new ort.Tensor("int64", mask, [rows, seqLen]) };
  try {
    const { embedding } = await session.run(feeds);
    const vectors = new Float32Array(embedding.data as Float32Array);
    for (let r = 0; r < rows; r++) normalize(vectors.subarray(r * USE_DIMENSIONS, (r + 1) * USE_DIMENSIONS));
    embedding.dispose();
    return { id, vectors };
  } catch (err) {
    return { id, error: errorOf(err) };
  } finally {
    for (const t of Object.values(feeds)) t.dispose();
  }
}

await start();
