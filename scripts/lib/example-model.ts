/**
 * @module Trains a model on the shipped example tiers (data/tiers) with the current source, for the load,
 * durability and dashboard scripts that need one and were not given --model.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/** Trains into `out` (USE encoder, 3 folds); `cache` moves the embedding cache. Throws when training fails. */
export function trainExampleModel(out: string, cache?: string): void {
  const t = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "src/cli/main.ts"),
      "train",
      "--data",
      join(ROOT, "data/tiers/train.jsonl"),
      "--config",
      join(ROOT, "data/tiers/tiers.yaml"),
      "--encoder",
      "use",
      "--folds",
      "3",
      "--out",
      out,
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...(cache ? { TRIAGE_CACHE: cache } : {}) } },
  );
  if (t.status !== 0) throw new Error("training failed");
}
