import { describe, expect, it } from "vitest";
import { DEFAULT_LEXICAL } from "../../src/model/lexical.js";
import { DEFAULT_HNSW } from "../../src/model/hnsw.js";
import { seededRandom } from "../../src/common/random.js";
import { wordDropout, DEFAULT_WORD_DROPOUT } from "../../src/train/augment.js";
import { DEFAULT_CENTROIDS } from "../../src/model/centroids.js";
import { crossValidate } from "../../src/train/crossval.js";
import { DEFAULT_HEAD } from "../../src/model/head.js";
import { scoreParts, type PartParams } from "../../src/model/parts.js";
import { fitParts } from "../../src/train/fit-parts.js";

const params: PartParams = { hnsw: DEFAULT_HNSW, head: DEFAULT_HEAD, centroids: DEFAULT_CENTROIDS, lexical: DEFAULT_LEXICAL };

function unit(random: () => number, d = 16): Float32Array {
  const v = Float32Array.from({ length: d }, () => random() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe("word dropout", () => {
  const texts = ["how do i reset my card pin today", "what is my balance", "hi", "cancel the transfer i made yesterday please"];

  it("makes seeded copies that drop words, each pointing at its source, none identical to it", () => {
    const a = wordDropout(texts, { copies: 3, rate: 0.3 }, 5);
    expect(a).toEqual(wordDropout(texts, { copies: 3, rate: 0.3 }, 5));
    expect(a.texts.length).toBeGreaterThan(0);
    expect(a.texts.length).toBe(a.source.length);
    a.texts.forEach((t, j) => {
      const original = texts[a.source[j]].split(" ");
      const words = t.split(" ");
      expect(words.length).toBeGreaterThan(0);
      expect(words.length).toBeLessThan(original.length);
      expect(words.every((w) => original.includes(w))).toBe(true);
    });
    // "hi" cannot lose a word without becoming empty.
    expect([...a.source]).not.toContain(2);
  });

  it("makes nothing with zero copies and rejects bad settings", () => {
    expect(wordDropout(texts, { copies: 0, rate: 0.15 }, 1).texts).toEqual([]);
    expect(() => wordDropout(texts, { copies: -1, rate: 0.15 }, 1)).toThrow(/copies/);
    expect(() => wordDropout(texts, { copies: 1.5, rate: 0.15 }, 1)).toThrow(/copies/);
    expect(() => wordDropout(texts, { copies: 1, rate: 1 }, 1)).toThrow(/rate/);
    expect(DEFAULT_WORD_DROPOUT.copies).toBeGreaterThan(0);
  });
});

describe("head rows beyond the examples", () => {
  it("train the head only: a word seen only in extra rows moves the head, not the index", async () => {
    const random = seededRandom(3);
    const texts = Array.from({ length: 40 }, (_, i) => `query number ${i} about ${i % 2 ? "cards" : "loans"}`);
    const vectors = texts.map(() => unit(random));
    const targets = texts.map((_, i) => i % 2);
    const extra = { texts: Array.from({ length: 20 }, () => "zebra"), vectors: Array.from({ length: 20 }, () => unit(random)), targets: Array.from({ length: 20 }, () => 1) };
    const plain = await fitParts(texts, vectors, targets, 2, params);
    const augmented = await fitParts(texts, vectors, targets, 2, params, extra);
    expect(augmented.index.size).toBe(plain.index.size);
    const query = unit(random);
    expect(scoreParts(augmented, "zebra", query, 1).head[1]).toBeGreaterThan(scoreParts(plain, "zebra", query, 1).head[1] + 0.2);
  });

  it("never train the fold that tests their source (no leak into out-of-fold scores)", async () => {
    // Labels are noise, so out-of-fold accuracy is chance unless a fold sees copies of its own test examples.
    const random = seededRandom(11);
    const n = 240;
    const texts = Array.from({ length: n }, (_, i) => `item${i} token${Math.floor(random() * 1e6)}`);
    const vectors = texts.map(() => unit(random));
    const targets = texts.map(() => Math.floor(random() * 4));
    const labels = ["a", "b", "c", "d"];
    const cvParams = { ...params, folds: 3, seed: 1, targetAccuracy: 0.9, noveltyRate: 0 };
    const copies = { source: Int32Array.from(texts.keys()), texts: [...texts], vectors: [...vectors] };
    const cv = await crossValidate(texts, vectors, targets, labels, cvParams, undefined, copies);
    expect(cv.metrics.accuracy).toBeLessThan(0.45);
  });
});
