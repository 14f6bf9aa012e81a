import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { TriageError } from "../../common/errors.js";

// Where an ONNX encoder's files live, kept apart from onnx.ts so finding them does not load onnxruntime.

/**
 * The reference encoder `triage model pull` fetches: the transformers.js export of
 * sentence-transformers/all-MiniLM-L6-v2, whose files follow the library's dtype names
 * (onnx/model.onnx = fp32, onnx/model_quantized.onnx = q8). The commit is cited in public code
 * (among others as a Hugging Face cache snapshot directory); it was not checked from here, as
 * this machine has no access to huggingface.co.
 *
 * The SHA-256 of each file a pull fetches at that commit, so the first pull is checked too (not only
 * later ones against what it recorded). Not hashed here, for the same reason: each digest is the one
 * several unrelated public projects pin for the same file at the same commit, and the
 * tokenizer_config.json digest is also that of the copy in ../shared/models.
 */
export const MINILM = {
  name: "all-MiniLM-L6-v2",
  repo: "Xenova/all-MiniLM-L6-v2",
  revision: "751bff37182d3f1213fa05d7196b954e230abad9",
  sha256: {
    "config.json": "7135149f7cffa1a573466c6e4d8423ed73b62fd2332c575bf738a0d033f70df7",
    "tokenizer.json": "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
    "tokenizer_config.json": "9261e7d79b44c8195c1cada2b453e55b00aeb81e907a6664974b4d7776172ab3",
    "onnx/model_quantized.onnx": "afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1",
    "onnx/model.onnx": "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e",
  },
} as const;

/** Parent of pulled encoders: a @huggingface/transformers cache, laid out <repo>/<revision>/<file>. */
export const ENCODERS_DIR = join("models", "encoders");
export const DEFAULT_ONNX_MODEL_DIR = join(ENCODERS_DIR, MINILM.repo, MINILM.revision);
/** Where pulls put MiniLM before they went through the library; still found, never written. */
export const LEGACY_ONNX_MODEL_DIR = join(ENCODERS_DIR, MINILM.name);
export const QUANTIZED_FILE = join("onnx", "model_quantized.onnx");
export const FP32_FILE = join("onnx", "model.onnx");
export const PULL_MANIFEST = "pull-manifest.json";
export const PULL_HINT = "; run `triage model pull all-MiniLM-L6-v2` to download it";

/** Returns the model directory when its tokenizer and an ONNX model file are present, else null. */
export function findOnnxModel(root: string = DEFAULT_ONNX_MODEL_DIR): string | null {
  const dir = resolve(root);
  if (!existsSync(join(dir, "tokenizer.json"))) return null;
  return existsSync(join(dir, QUANTIZED_FILE)) || existsSync(join(dir, FP32_FILE)) ? dir : null;
}

/** The pulled reference encoder: the pinned revision, else a folder from an earlier triage's pull. */
export function findDefaultOnnxModel(): string | null {
  return findOnnxModel(DEFAULT_ONNX_MODEL_DIR) ?? findOnnxModel(LEGACY_ONNX_MODEL_DIR);
}

/** The model file to run: true = onnx/model_quantized.onnx, false = onnx/model.onnx, unset = quantized when present. */
export function chooseModelFile(root: string, quantized: boolean | undefined): string {
  const q = join(root, QUANTIZED_FILE);
  const f = join(root, FP32_FILE);
  if (quantized === true || (quantized === undefined && existsSync(q))) {
    if (existsSync(q)) return q;
    throw new TriageError(`ONNX model file not found: ${q}${PULL_HINT}`, "E_MODEL_MISSING");
  }
  if (existsSync(f)) return f;
  throw new TriageError(`ONNX model file not found: ${quantized === false ? f : `${q} or ${f}`}${PULL_HINT}${quantized === false ? " --fp32" : ""}`, "E_MODEL_MISSING");
}

/** The few config.json fields the encoders use; the file is optional. */
export function readModelConfig(root: string): { hiddenSize?: number; maxPositions?: number; modelType?: string } {
  const path = join(root, "config.json");
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new TriageError(`cannot read ${path}: ${(err as Error).message}`, "E_MODEL_INVALID");
  }
  const cfg = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);
  return {
    hiddenSize: num(cfg.hidden_size),
    maxPositions: num(cfg.max_position_embeddings),
    ...(typeof cfg.model_type === "string" ? { modelType: cfg.model_type } : {}),
  };
}

/**
 * The encoder id a model directory gets: `onnx:<name>`, where the name is the one `triage model pull`
 * recorded in pull-manifest.json (the library's cache layout ends in a revision hash, not a name),
 * else the directory's own name.
 */
export function onnxEncoderId(root: string): string {
  const manifest = join(root, PULL_MANIFEST);
  if (existsSync(manifest)) {
    try {
      const m = JSON.parse(readFileSync(manifest, "utf8")) as { model?: unknown };
      if (typeof m.model === "string" && /^[\w.-]+$/.test(m.model)) return `onnx:${m.model}`;
    } catch {
      // A damaged manifest does not stop the model from loading; the directory name still identifies it.
    }
  }
  return `onnx:${basename(root)}`;
}
