import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { sharedPath } from "../common/shared.js";
import type { Example } from "../train/data.js";

/** A third-party intent dataset from shared/datasets: train and test splits. */
export interface IntentDataset {
  name: string;
  train: Example[];
  test: Example[];
  /** Label that marks out-of-scope test queries (they should come out low-confidence). */
  outOfScopeLabel?: string;
}

export type DatasetResult = { dataset: IntentDataset; skipped: null } | { dataset: null; skipped: string };

export function loadBanking77(): DatasetResult {
  const dir = sharedPath("datasets", "banking77");
  if (!dir.path) return { dataset: null, skipped: `banking77: skipped, ${dir.missing}` };
  const read = (f: string) =>
    (parseCsv(readFileSync(join(dir.path, f), "utf8"), { columns: true }) as { text: string; category: string }[]).map((r) => ({ text: r.text, label: r.category }));
  return { dataset: { name: "banking77", train: read("train.csv"), test: read("test.csv") }, skipped: null };
}

/** CLINC150: 150 in-scope intents; out-of-scope test queries keep the label "oos" (absent from training). */
export function loadClinc150(): DatasetResult {
  const dir = sharedPath("datasets", "clinc150");
  if (!dir.path) return { dataset: null, skipped: `clinc150: skipped, ${dir.missing}` };
  const data = JSON.parse(readFileSync(join(dir.path, "data_full.json"), "utf8")) as Record<string, [string, string][]>;
  const rows = (key: string) => data[key].map(([text, label]) => ({ text, label }));
  return { dataset: { name: "clinc150", train: rows("train"), test: [...rows("test"), ...rows("oos_test")], outOfScopeLabel: "oos" }, skipped: null };
}
