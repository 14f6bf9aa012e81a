import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** Where an ONNX encoder's files live, kept apart from onnx.ts so finding them does not load onnxruntime. */
export const DEFAULT_ONNX_MODEL_DIR = "models/encoders/all-MiniLM-L6-v2";
export const QUANTIZED_FILE = join("onnx", "model_quantized.onnx");
export const FP32_FILE = join("onnx", "model.onnx");

/** Returns the model directory when its tokenizer and an ONNX model file are present, else null. */
export function findOnnxModel(root: string = DEFAULT_ONNX_MODEL_DIR): string | null {
  const dir = resolve(root);
  if (!existsSync(join(dir, "tokenizer.json"))) return null;
  return existsSync(join(dir, QUANTIZED_FILE)) || existsSync(join(dir, FP32_FILE)) ? dir : null;
}
