import * as ort from "onnxruntime-node";

/**
 * What both ONNX encoders run: CPU, all graph optimisations, one inter-op thread; unset `threads` lets the runtime
 * choose. Intra-op threads sleep between runs instead of spinning: a spinning pool burned about as much CPU again
 * as the work itself (USE-Lite: 5.0 against 2.1 ms a query), taken from the event loop and other processes on a
 * small machine, and its threads then queued behind them, which was most of the latency tail.
 */
export function cpuSessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    interOpNumThreads: 1,
    ...(threads ? { intraOpNumThreads: threads } : {}),
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}

/** A tokenised text: ids, and segment ids where the graph takes them. */
export interface TokenRow {
  ids: readonly number[];
  typeIds?: readonly number[];
}

/**
 * How much longer than its shortest row a batch's longest may be. Padding is paid in full: measured on USE-Lite
 * (2 cores), a batch of 8 queries of mixed lengths cost 2.7 ms of CPU a query against 2.0 run one by one, and 8
 * of one length 1.5. So rows share a run only when they are about as long.
 */
export const MAX_PADDING = 1.25;

/**
 * Embeds tokenised texts in batches of similar length (at most `batchSize` rows, the longest at most MAX_PADDING
 * times the shortest), so little compute is spent on padding, and returns the vectors in input order. `onProgress`
 * gets the count of texts done per batch.
 */
export async function embedByLength<T extends TokenRow>(
  rows: readonly T[],
  batchSize: number,
  runBatch: (batch: readonly T[]) => Promise<Float32Array[]>,
  onProgress?: (done: number) => void,
): Promise<Float32Array[]> {
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].ids.length - rows[b].ids.length);
  const out = new Array<Float32Array>(rows.length);
  const groups: number[][] = [];
  let group: number[] = [];
  for (const i of order) {
    const shortest = group.length ? Math.max(1, rows[group[0]].ids.length) : 0;
    if (group.length === batchSize || (group.length && rows[i].ids.length > shortest * MAX_PADDING)) {
      groups.push(group);
      group = [];
    }
    group.push(i);
  }
  if (group.length) groups.push(group);
  // One batch at a time: a session thread asked to close finishes only the runs it was sent.
  for (const idx of groups) {
    const vectors = await runBatch(idx.map((i) => rows[i]));
    idx.forEach((i, k) => (out[i] = vectors[k]));
    onProgress?.(idx.length);
  }
  return out;
}

/** int64 tensors for exactly the inputs the graph declares, each batch padded to its longest text (at least one token). */
export function buildFeeds(batch: readonly TokenRow[], padId: number, inputNames: readonly string[]) {
  const seqLen = Math.max(1, ...batch.map((e) => e.ids.length));
  const ids = new BigInt64Array(batch.length * seqLen).fill(BigInt(padId));
  const mask = new BigInt64Array(batch.length * seqLen);
  const types = new BigInt64Array(batch.length * seqLen);
  batch.forEach((e, b) => {
    for (let t = 0; t < e.ids.length; t++) {
      ids[b * seqLen + t] = BigInt(e.ids[t]);
      mask[b * seqLen + t] = 1n;
      types[b * seqLen + t] = BigInt(e.typeIds?.[t] ?? 0);
    }
  });
  const data: Record<string, BigInt64Array> = { input_ids: ids, attention_mask: mask, token_type_ids: types };
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of inputNames) feeds[name] = new ort.Tensor("int64", data[name], [batch.length, seqLen]);
  return { feeds, mask, seqLen };
}
