import { join } from "node:path";
import { TriageError } from "../common/errors.js";
import { CachedEncoder } from "./cache.js";
import { encoderRef, type Encoder, type EncoderRef } from "./types.js";
import { DEFAULT_ONNX_MODEL_DIR, ENCODERS_DIR, findDefaultOnnxModel } from "./onnx/files.js";
import { USE_ENCODER_ID } from "./use/id.js";

// The encoders themselves are imported on first use: onnxruntime and the weights take a good part of a
// second to load, which commands that never embed (logs, stats, --help) should not pay.
const loadUse = async (threads?: number) => (await import("./use/encoder.js")).UseEncoder.load({ threads });
const loadOnnx = async (...args: Parameters<typeof import("./onnx/encoder.js").OnnxEncoder.load>) => (await import("./onnx/encoder.js")).OnnxEncoder.load(...args);

/** Where `triage model pull` puts encoders and where training looks for the reference ONNX model. */
export { ENCODERS_DIR };
export const DEFAULT_ONNX_DIR = DEFAULT_ONNX_MODEL_DIR;
export const DEFAULT_CACHE_PATH = process.env.TRIAGE_CACHE ?? join(".cache", "embeddings.sqlite");

export interface ResolveOptions {
  /** "auto" (ONNX MiniLM when its files are present, else the npm-shipped USE), "use", "onnx" or "onnx:DIR". */
  spec?: string;
  /** Embedding cache file; null disables it. */
  cachePath?: string | null;
  threads?: number;
}

export interface ResolvedEncoder {
  encoder: Encoder;
  /** Why this encoder was chosen, for the CLI to say. */
  reason: string;
  /** What a model artifact records about it (id, fingerprint, and where on-disk weights live). */
  ref: EncoderRef;
}

export async function resolveEncoder(options: ResolveOptions = {}): Promise<ResolvedEncoder> {
  const spec = options.spec ?? "auto";
  let encoder: Encoder;
  let reason = "requested";
  let extra: Pick<EncoderRef, "path" | "quantized"> = {};
  const onnxDir = spec === "auto" ? findDefaultOnnxModel() : spec === "onnx" ? (findDefaultOnnxModel() ?? DEFAULT_ONNX_DIR) : spec.startsWith("onnx:") ? spec.slice(5) : null;
  if (spec === "use" || (spec === "auto" && onnxDir === null)) {
    encoder = await loadUse(options.threads);
    if (spec === "auto") reason = `no ONNX model in ${DEFAULT_ONNX_DIR}; using the npm-shipped encoder`;
  } else if (onnxDir !== null) {
    const onnx = await loadOnnx(onnxDir, { threads: options.threads });
    encoder = onnx;
    if (spec === "auto") reason = `found ${onnxDir}`;
    extra = { path: onnxDir, quantized: onnx.modelPath.endsWith("model_quantized.onnx") };
  } else throw new TriageError(`unknown encoder "${spec}": use auto, use, onnx or onnx:DIR`);
  const ref = encoderRef(encoder, extra);
  const cachePath = options.cachePath === undefined ? DEFAULT_CACHE_PATH : options.cachePath;
  if (cachePath) encoder = new CachedEncoder(encoder, cachePath);
  return { encoder, reason, ref };
}

/** The encoder an artifact was trained with, checked against its recorded fingerprint. */
export async function encoderForArtifact(ref: EncoderRef, options: { threads?: number } = {}): Promise<Encoder> {
  let encoder: Encoder;
  if (ref.id === USE_ENCODER_ID) encoder = await loadUse(options.threads);
  else if (ref.id.startsWith("onnx:"))
    encoder = await loadOnnx(ref.path ?? join(ENCODERS_DIR, ref.id.slice("onnx:".length)), { threads: options.threads, quantized: ref.quantized });
  else throw new TriageError(`model was trained with encoder "${ref.id}", which this triage cannot load`);
  assertSameEncoder(ref, encoder);
  return encoder;
}

export function assertSameEncoder(ref: EncoderRef, encoder: Encoder): void {
  if (encoder.id !== ref.id) throw new TriageError(`model was trained with encoder "${ref.id}" but "${encoder.id}" was given; retrain or use the same encoder`);
  if (encoder.fingerprint !== ref.fingerprint)
    throw new TriageError(
      `encoder "${ref.id}" has different weights (fingerprint ${encoder.fingerprint.slice(0, 12)}, model expects ${ref.fingerprint.slice(0, 12)}); retrain the model with these weights`,
    );
}
