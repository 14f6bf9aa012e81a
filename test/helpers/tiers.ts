/** Small, real training runs on the shipped example tier data, shared by router/CLI tests. */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UseEncoder } from "../../src/encoders/use/encoder.js";
import type { Encoder } from "../../src/encoders/types.js";
import { tempDir } from "./temp.js";
import type { Example } from "../../src/train/data.js";
import { train, type TrainOptions, type TrainResult } from "../../src/train/train.js";

export const TIERS_DIR = join(import.meta.dirname, "..", "..", "data", "tiers");
export const TIERS_CONFIG = join(TIERS_DIR, "tiers.yaml");

export function tierExamples(file: "train" | "test", perLabel: number): Example[] {
  const rows = readFileSync(join(TIERS_DIR, `${file}.jsonl`), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Example);
  const taken = new Map<string, number>();
  return rows.filter((r) => {
    const n = taken.get(r.label) ?? 0;
    taken.set(r.label, n + 1);
    return n < perLabel;
  });
}

let shared: Promise<Encoder> | undefined;
/** One USE encoder per test file (loading it takes ~0.3 s, its graph is reused). */
export function useEncoder(): Promise<Encoder> {
  shared ??= UseEncoder.load();
  return shared;
}

/**
 * Embeddings cached across test files and runs, under the system temp folder (never the repository's
 * .cache): distilling the fast path embeds USE's ~8k vocabulary pieces, which is worth keeping.
 */
export const TEST_EMBEDDING_CACHE = join(tmpdir(), "triage-tests-embeddings.sqlite");

export { tempDir };

export async function trainTiers(perLabel = 20, extra: Partial<TrainOptions> = {}): Promise<TrainResult> {
  return train({
    data: tierExamples("train", perLabel),
    config: TIERS_CONFIG,
    encoder: await useEncoder(),
    out: join(tempDir(), "model"),
    folds: 3,
    ...extra,
  });
}
