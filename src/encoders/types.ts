/**
 * @module Sentence encoders (encoders/): the `Encoder` interface every stage embeds through, and its
 * implementations: USE-Lite rebuilt as ONNX (use/), ONNX sentence-transformers and `model pull` (onnx/), the
 * distilled static encoder of the fast path (static.ts), the on-disk embedding cache, and the subword
 * tokenizers they share (tokenizers/).
 */

/** A sentence encoder: texts in, L2-normalised vectors out. Every encoder in triage implements this. */
export interface Encoder {
  /** Stable id recorded in model artifacts, e.g. "use-lite-512" or "onnx:all-MiniLM-L6-v2". */
  readonly id: string;
  readonly dimensions: number;
  /** SHA-256 over the weights (and tokenizer) so a model is never used with different weights. */
  readonly fingerprint: string;
  /** Embeds in batches; every returned vector has unit length. `onProgress` gets the count of texts done per step. */
  embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]>;
  /** Releases native resources (sessions, tensors). */
  close?(): Promise<void>;
}

/** What an artifact records about the encoder it was trained with. */
export interface EncoderRef {
  id: string;
  fingerprint: string;
  dimensions: number;
  /** Where to find weights for encoders that live on disk (ONNX); relative paths resolve from the project root. */
  path?: string;
  /** ONNX: whether the int8 file was used (both may sit in one folder, with different fingerprints). */
  quantized?: boolean;
}

export function encoderRef(e: Encoder, extra: Pick<EncoderRef, "path" | "quantized"> = {}): EncoderRef {
  return { id: e.id, fingerprint: e.fingerprint, dimensions: e.dimensions, ...extra };
}
