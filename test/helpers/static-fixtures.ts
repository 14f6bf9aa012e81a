import { createHash } from "node:crypto";
import type { TokenizerSpec } from "../../src/encoders/tokenizers/subword.js";
import type { Encoder } from "../../src/encoders/types.js";
import { seededRandom } from "../../src/common/random.js";

export const DIM = 16;

/** Unit vector derived from a string's hash: the same word always gets the same direction. */
function hashedVector(word: string): Float32Array {
  const seed = createHash("sha256").update(word).digest().readUInt32LE(0);
  const random = seededRandom(seed);
  const v = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) v[d] = random() * 2 - 1;
  return v;
}

const STOP_WORDS = new Set(["the", "my", "a", "is", "to"]);

/**
 * A deterministic stand-in for a sentence encoder: whole words (not subword pieces) get hashed directions,
 * stop words count little, and every sentence shares a common direction. Token-only initialisation can't
 * reproduce that exactly (pieces != words, no shared direction, no down-weighting), so fitting has room to help.
 */
export class FakeTeacher implements Encoder {
  readonly id = "fake-teacher";
  readonly dimensions = DIM;
  readonly fingerprint = "fake-fingerprint";
  calls = 0;
  private readonly common = hashedVector("<common>");

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls++;
    return texts.map((text) => {
      const v = Float32Array.from(this.common, (x) => 0.8 * x);
      for (const w of text.toLowerCase().split(/\s+/).filter(Boolean)) {
        const h = hashedVector(w);
        const weight = STOP_WORDS.has(w) ? 0.2 : 1;
        for (let d = 0; d < DIM; d++) v[d] += weight * h[d];
      }
      let n = 0;
      for (let d = 0; d < DIM; d++) n += v[d] * v[d];
      n = Math.sqrt(n);
      for (let d = 0; d < DIM; d++) v[d] /= n;
      return v;
    });
  }
}

/** Like FakeTeacher, but word order matters: each adjacent pair of words adds a direction of its own. */
export class WordOrderTeacher extends FakeTeacher {
  override async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const bags = await super.embed(texts);
    return bags.map((v, i) => {
      const words = texts[i].toLowerCase().split(/\s+/).filter(Boolean);
      const out = Float32Array.from(v);
      for (let k = 0; k + 1 < words.length; k++) {
        const h = hashedVector(`${words[k]} ${words[k + 1]}`);
        for (let d = 0; d < DIM; d++) out[d] += 0.5 * h[d];
      }
      const n = Math.hypot(...out);
      return out.map((x) => x / n);
    });
  }
}

/** Tiny SentencePiece-style vocabulary: whole words, a few suffix pieces, and single letters for coverage. */
export function tinyUnigramVocabulary(): Extract<TokenizerSpec, { kind: "unigram" }> {
  const entries: [string, number][] = [
    ["<unk>", 0],
    ["<s>", 0],
    ["</s>", 0],
    ["\u2581the", -2],
    ["\u2581my", -2.5],
    ["\u2581a", -2.6],
    ["\u2581is", -2.7],
    ["\u2581to", -2.8],
    ["\u2581card", -4],
    ["\u2581pin", -4.5],
    ["\u2581lost", -5],
    ["\u2581top", -5],
    ["\u2581up", -5],
    ["\u2581transfer", -6],
    ["\u2581fee", -6],
    ["\u2581refund", -6],
    ["s", -3],
    ["ed", -3.5],
    ["ing", -3.5],
    ["\u2581", -3],
    ..."abcdefghijklmnopqrstuvwxyz".split("").map((c): [string, number] => [c, -8]),
  ];
  return { kind: "unigram", pieces: entries.map((e) => e[0]), scores: entries.map((e) => e[1]), reserved: 3 };
}

export function tinyWordPieceVocabulary(): Extract<TokenizerSpec, { kind: "wordpiece" }> {
  return {
    kind: "wordpiece",
    pieces: ["[PAD]", "[UNK]", "!", ",", "'", "una", "##ffa", "##ble", "card", "##s", "pin", "cafe", "my", "the", "t", "can"],
    unknown: "[UNK]",
  };
}

const WORDS = [
  "the",
  "my",
  "a",
  "is",
  "to",
  "card",
  "cards",
  "pin",
  "pins",
  "lost",
  "top",
  "up",
  "topped",
  "topping",
  "transfer",
  "transfers",
  "transferred",
  "fee",
  "fees",
  "refund",
  "refunds",
  "refunded",
  "blocked",
  "atm",
];

/** Deterministic pseudo-sentences of 2-8 words from WORDS. */
export function syntheticTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const n = 2 + Math.floor(random() * 7);
    return Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
  });
}
