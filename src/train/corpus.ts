/**
 * @module The generic English text shipped for distilling the fast path (data/corpus): the static
 * encoder imitates the full one, which needs text but no labels, and a few hundred training examples
 * cover too few words for it to learn from them alone.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TriageError } from "../common/errors.js";

/** Same place from src/ (tsx) and dist/ (the package ships data/). */
export const GENERIC_CORPUS_PATH = join(import.meta.dirname, "..", "..", "data", "corpus", "wordnet-sentences.txt");

/** Below this many training texts, distillation adds the generic corpus (above, the texts alone cover the vocabulary they need). */
export const GENERIC_CORPUS_BELOW = 5000;

let cached: string[] | undefined;

/** The corpus sentences (WordNet 3.1's example sentences; data/corpus/README.md says which and why). */
export function genericCorpus(): string[] {
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(GENERIC_CORPUS_PATH, "utf8");
  } catch (err) {
    throw new TriageError(`${GENERIC_CORPUS_PATH}: cannot read the shipped distillation corpus (${(err as Error).message})`, "E_DATA");
  }
  cached = text.split("\n").filter((line) => line.trim().length > 0);
  return cached;
}
