/**
 * @module Server-config tier overrides that give every label of a model a model name, for load scripts whose
 * model was trained without a tiers config (Banking77's intents): the proxy refuses a tier without one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveModelDir } from "../../src/model/registry.js";

/** `{ label: { model } }` for each label of the model in `dir` (artifact or registry) that names no model. */
export function missingTierModels(dir: string, model = "gpt-4o-mini"): Record<string, { model: string }> {
  const manifest = JSON.parse(readFileSync(join(resolveModelDir(dir), "manifest.json"), "utf8")) as { config: { labels: { name: string; model?: string }[] } };
  return Object.fromEntries(manifest.config.labels.filter((l) => !l.model).map((l) => [l.name, { model }]));
}
