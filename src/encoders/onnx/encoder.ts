/**
 * @module ONNX sentence-transformers (encoders/onnx/): the encoder run on onnxruntime-node with mean pooling, the
 * transformers.js pipeline used to cross-check it, and `triage model pull` with its digest-checked
 * downloads.
 */

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { TriageError } from "../../common/errors.js";
import { sha256Files } from "../../common/hash.js";
import { normalize } from "../../common/vector.js";
import { HfTokenizer, type EncodedText } from "../tokenizers/hf.js";
import type { Encoder } from "../types.js";
import { PULL_HINT, chooseModelFile, onnxEncoderId, readModelConfig } from "./files.js";
import { buildFeeds, cpuSessionOptions, embedByLength } from "./run.js";

export { DEFAULT_ONNX_MODEL_DIR, findOnnxModel } from "./files.js";

export interface OnnxEncoderOptions {
  /** Intra-op threads for ONNX Runtime; unset lets the runtime choose. */
  threads?: number;
  /** Tokens per text, special tokens included (sentence-transformers uses 256 for MiniLM). */
  maxLength?: number;
  batchSize?: number;
  /** true: onnx/model_quantized.onnx, false: onnx/model.onnx, unset: quantized when present. */
  quantized?: boolean;
}

/** Integer inputs a BERT-style graph may declare; anything else is not something we can feed. */
const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids"]);

/**
 * A sentence-transformer in the Hugging Face ONNX layout (tokenizer.json + onnx/model*.onnx) run on
 * CPU with onnxruntime-node: tokenise, pad each batch to its longest text, take the token embeddings,
 * attention-masked mean pooling, L2 normalisation — the all-MiniLM-L6-v2 recipe.
 */
export class OnnxEncoder implements Encoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: HfTokenizer,
    readonly id: string,
    readonly dimensions: number,
    readonly fingerprint: string,
    readonly modelPath: string,
    private readonly outputName: string,
    private readonly batchSize: number,
  ) {}

  static async load(dir: string, options: OnnxEncoderOptions = {}): Promise<OnnxEncoder> {
    const root = resolve(dir);
    if (!existsSync(root)) throw new TriageError(`ONNX model directory not found: ${root}${PULL_HINT}`, "E_MODEL_MISSING");
    const modelPath = chooseModelFile(root, options.quantized);
    const config = readModelConfig(root);
    const maxLength = Math.min(options.maxLength ?? 256, config.maxPositions ?? Infinity);
    const tokenizer = HfTokenizer.load(root, maxLength, PULL_HINT);
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TriageError(`batchSize must be a positive integer, got ${batchSize}`, "E_CONFIG");

    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, cpuSessionOptions(options.threads));
    } catch (err) {
      throw new TriageError(`cannot load ONNX model ${modelPath}: ${(err as Error).message}`, "E_MODEL_INVALID");
    }
    const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
    if (unknown.length > 0 || !session.inputNames.includes("input_ids")) {
      await session.release();
      throw new TriageError(
        `ONNX model ${modelPath} declares inputs [${session.inputNames.join(", ")}]; expected input_ids with optional attention_mask and token_type_ids`,
        "E_MODEL_INVALID",
      );
    }
    const output = tokenEmbeddingOutput(session, modelPath);
    const dimensions = output.dim ?? config.hiddenSize;
    if (!dimensions) {
      await session.release();
      throw new TriageError(`cannot tell the embedding size of ${modelPath}: no static output dim and no hidden_size in config.json`, "E_MODEL_INVALID");
    }
    const fingerprint = sha256Files([join(root, "tokenizer.json"), modelPath]);
    return new OnnxEncoder(session, tokenizer, onnxEncoderId(root), dimensions, fingerprint, modelPath, output.name, batchSize);
  }

  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    return embedByLength(
      texts.map((t) => this.tokenizer.encode(t)),
      this.batchSize,
      (batch) => this.runBatch(batch),
      onProgress,
    );
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async runBatch(batch: readonly EncodedText[]): Promise<Float32Array[]> {
    const { feeds, mask, seqLen } = buildFeeds(batch, this.tokenizer.padId, this.session.inputNames);
    const results = await this.session.run(feeds, [this.outputName]);
    const hidden = results[this.outputName];
    const [b, s, d] = hidden.dims;
    if (hidden.type !== "float32" || hidden.dims.length !== 3 || b !== batch.length || s !== seqLen || d !== this.dimensions) {
      throw new TriageError(
        `ONNX output ${this.outputName} has type ${hidden.type} shape [${hidden.dims.join(", ")}], expected float32 [${batch.length}, ${seqLen}, ${this.dimensions}]`,
        "E_MODEL_INVALID",
      );
    }
    const pooled = meanPoolNormalized(hidden.data as Float32Array, mask, batch.length, seqLen, this.dimensions);
    for (const t of Object.values(feeds)) t.dispose();
    hidden.dispose();
    return pooled;
  }
}

/**
 * Mean of the token vectors whose mask is 1, per row, then unit length.
 * `hidden` is row-major [batch, seqLen, dim]; `mask` is [batch, seqLen].
 */
export function meanPoolNormalized(hidden: Float32Array, mask: ArrayLike<bigint | number>, batch: number, seqLen: number, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    for (let t = 0; t < seqLen; t++) {
      if (Number(mask[b * seqLen + t]) === 0) continue;
      const base = (b * seqLen + t) * dim;
      for (let k = 0; k < dim; k++) v[k] += hidden[base + k];
    }
    // The mean's divisor does not change the direction, so normalising the sum is the same vector.
    out.push(normalize(v));
  }
  return out;
}

/** The token-embedding output: `last_hidden_state` / `token_embeddings`, else the first rank-3 output. */
function tokenEmbeddingOutput(session: ort.InferenceSession, modelPath: string): { name: string; dim?: number } {
  const tensors = session.outputMetadata.filter((m): m is ort.InferenceSession.TensorValueMetadata => m.isTensor);
  const rank3 = tensors.filter((m) => m.shape.length === 3);
  const chosen = rank3.find((m) => m.name === "last_hidden_state") ?? rank3.find((m) => m.name === "token_embeddings") ?? rank3[0];
  if (!chosen) {
    throw new TriageError(`ONNX model ${modelPath} has no [batch, seq, dim] output (outputs: ${session.outputNames.join(", ")})`, "E_MODEL_INVALID");
  }
  const last = chosen.shape[2];
  return { name: chosen.name, ...(typeof last === "number" && last > 0 ? { dim: last } : {}) };
}
