/**
 * @module encoders/onnx-pipeline
 * The same sentence-transformer folder OnnxEncoder runs, run instead through @huggingface/transformers'
 * feature-extraction pipeline (its tokenizer, its onnxruntime-node session, its mean pooling and L2
 * normalisation). Loading is local only: remote loading is switched off and any fetch is refused, so a
 * missing file is an error, never a download. Same files, same id and fingerprint as OnnxEncoder.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FeatureExtractionPipeline } from "@huggingface/transformers";
import { TriageError } from "../../common/errors.js";
import { sha256Files } from "../../common/hash.js";
import { refuseNetwork, withHubEnv } from "./hf-env.js";
import { PULL_HINT, QUANTIZED_FILE, chooseModelFile, onnxEncoderId, readModelConfig } from "./files.js";
import type { OnnxEncoderOptions } from "./encoder.js";
import { cpuSessionOptions } from "./run.js";
import type { Encoder } from "../types.js";

export class PipelineEncoder implements Encoder {
  private constructor(
    private readonly extractor: FeatureExtractionPipeline,
    readonly id: string,
    readonly dimensions: number,
    readonly fingerprint: string,
    readonly modelPath: string,
    private readonly batchSize: number,
  ) {}

  static async load(dir: string, options: OnnxEncoderOptions = {}): Promise<PipelineEncoder> {
    const root = resolve(dir);
    if (!existsSync(root)) throw new TriageError(`ONNX model directory not found: ${root}${PULL_HINT}`, "E_MODEL_MISSING");
    const tokenizerPath = join(root, "tokenizer.json");
    if (!existsSync(tokenizerPath)) throw new TriageError(`tokenizer file not found: ${tokenizerPath}${PULL_HINT}`, "E_MODEL_MISSING");
    const modelPath = chooseModelFile(root, options.quantized);
    const config = readModelConfig(root);
    // The library picks its model class from config.json and loads a tokenizer only when
    // tokenizer_config.json is there (else it builds a pipeline without one); the direct path needs neither.
    const tokenizerConfig = join(root, "tokenizer_config.json");
    if (!existsSync(tokenizerConfig)) {
      throw new TriageError(`tokenizer file not found: ${tokenizerConfig} (@huggingface/transformers needs it)${PULL_HINT}`, "E_MODEL_MISSING");
    }
    if (!config.modelType) {
      throw new TriageError(`${join(root, "config.json")} is missing or has no model_type, which @huggingface/transformers needs to load the model`, "E_MODEL_INVALID");
    }
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TriageError(`batchSize must be a positive integer, got ${batchSize}`, "E_CONFIG");
    const maxLength = Math.min(options.maxLength ?? 256, config.maxPositions ?? Infinity);

    const extractor = await withHubEnv({ allowRemoteModels: false, allowLocalModels: true, fetch: refuseNetwork }, async ({ pipeline }) => {
      try {
        return await pipeline("feature-extraction", root, {
          local_files_only: true,
          device: "cpu",
          dtype: modelPath.endsWith(QUANTIZED_FILE) ? "q8" : "fp32",
          session_options: cpuSessionOptions(options.threads),
        });
      } catch (err) {
        throw new TriageError(`cannot load ${root} with @huggingface/transformers: ${(err as Error).message}`, "E_MODEL_INVALID");
      }
    });
    // The pipeline truncates at the tokenizer's model_max_length (512 for MiniLM); sentence-transformers,
    // and OnnxEncoder, use 256. The library reads that limit through this getter on every call.
    Object.defineProperty(extractor.tokenizer, "model_max_length", { value: maxLength });

    let dimensions = config.hiddenSize;
    if (!dimensions) {
      const probe = await extractor("", { pooling: "mean", normalize: true });
      dimensions = probe.dims[1];
    }
    const fingerprint = sha256Files([tokenizerPath, modelPath]);
    return new PipelineEncoder(extractor, onnxEncoderId(root), dimensions, fingerprint, modelPath, batchSize);
  }

  /** Batches of similar length (by characters, a stand-in for tokens), so little compute goes to padding. */
  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
    const out = new Array<Float32Array>(texts.length);
    for (let s = 0; s < order.length; s += this.batchSize) {
      const idx = order.slice(s, s + this.batchSize);
      const result = await this.extractor(
        idx.map((i) => texts[i]),
        { pooling: "mean", normalize: true },
      );
      const [rows, dim] = result.dims;
      if (rows !== idx.length || dim !== this.dimensions || !(result.data instanceof Float32Array)) {
        throw new TriageError(
          `the feature-extraction pipeline returned ${result.type} [${result.dims.join(", ")}], expected float32 [${idx.length}, ${this.dimensions}]`,
          "E_MODEL_INVALID",
        );
      }
      const data = result.data;
      idx.forEach((i, r) => (out[i] = data.slice(r * dim, (r + 1) * dim)));
      result.dispose();
      onProgress?.(idx.length);
    }
    return out;
  }

  /** The token ids the pipeline feeds the model for one text, after its truncation (for comparing with OnnxEncoder). */
  tokenIds(text: string): number[] {
    const { input_ids } = this.extractor.tokenizer([text], { padding: true, truncation: true });
    return Array.from(input_ids.data as BigInt64Array, Number);
  }

  async close(): Promise<void> {
    await this.extractor.dispose();
  }
}
