import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { crossValidate, foldIds, nearestRows, outOfFold, outOfFoldDepth } from "../../src/outcomes/cv.js";
import type { NeighbourRows } from "../../src/outcomes/knn.js";
import type { OutcomeSet } from "../../src/outcomes/set.js";
import { DEFAULT_CV_REPEATS, defaultCvRepeats } from "../../src/outcomes/fit.js";

/**
 * Noisy outcomes where cross-validated scores come close: a cheap and a strong model, prompts of three
 * kinds (the cheap model solves kind 0 often, kind 2 rarely), each outcome drawn at random, embeddings
 * one axis per kind plus noise.
 */
function noisy(n: number, seed: number): { set: OutcomeSet; vectors: Float32Array[] } {
  const rand = seededRandom(seed);
  const cheapRate = [0.9, 0.5, 0.1];
  const vectors: Float32Array[] = [];
  const prompts = [...Array(n).keys()].map((i) => {
    const kind = i % 3;
    const v = Float32Array.from({ length: 6 }, () => (rand() - 0.5) * 1.2);
    v[kind] += 1;
    const norm = Math.hypot(...v);
    vectors.push(v.map((x) => x / norm));
    const text = `kind ${kind} prompt ${i}`;
    return {
      id: text,
      text,
      scores: Float64Array.of(rand() < cheapRate[kind] ? 1 : 0, rand() < 0.9 ? 1 : 0),
      costs: Float64Array.of(1e-4, 2e-3),
      where: `noisy:${i}`,
    };
  });
  return { set: { models: ["cheap", "strong"], prompts, costSource: "data", notes: [] }, vectors };
}

describe("repeated cross-validation", () => {
  const { set, vectors } = noisy(150, 11);

  it("scores each trial by its mean over the fold partitions seeded seed, seed + 1, ...", async () => {
    const repeated = await crossValidate(set, vectors, { seed: 3, repeats: 3, logistic: false });
    const singles = await Promise.all([3, 4, 5].map((seed) => crossValidate(set, vectors, { seed, logistic: false })));
    expect(repeated.repeats).toBe(3);
    expect(repeated.trials).toHaveLength(singles[0].trials.length);
    repeated.trials.forEach((t, i) => {
      const mean = singles.reduce((a, s) => a + s.trials[i].aiqStaircase, 0) / 3;
      expect(t.knn).toEqual(singles[0].trials[i].knn);
      expect(t.aiqStaircase).toBeCloseTo(mean, 12);
    });
    const best = repeated.trials.reduce((a, t) => (t.aiqStaircase > a.aiqStaircase + 1e-9 ? t : a));
    expect(repeated.best).toBe(best);
    // The pick is not the first partition's alone, and the dial is calibrated on that partition's predictions of the pick.
    expect(repeated.best.knn).not.toEqual(singles[0].best.knn);
    expect(repeated.bestPreds).toHaveLength(set.prompts.length);
    const first = await crossValidate(set, vectors, { seed: 3, logistic: false, keepAll: true });
    expect(repeated.bestPreds).toEqual(first.trialPreds?.[repeated.trials.indexOf(repeated.best)]);
  });

  it("one partition (the default) is the single cross-validation, pick and predictions alike", async () => {
    const once = await crossValidate(set, vectors, { seed: 3, logistic: false });
    const explicit = await crossValidate(set, vectors, { seed: 3, repeats: 1, logistic: false });
    expect(once.repeats).toBe(1);
    expect(explicit.best).toEqual(once.best);
    expect(explicit.bestPreds).toEqual(once.bestPreds);
  });
});

describe("heads fitted on worker threads", () => {
  const { set, vectors } = noisy(120, 5);

  it("give the same trials, pick and out-of-fold predictions as on the calling thread", async () => {
    const here = await crossValidate(set, vectors, { seed: 3, threads: 1 });
    const threaded = await crossValidate(set, vectors, { seed: 3, threads: 2 });
    expect(threaded.trials.some((t) => t.method === "logistic")).toBe(true);
    expect(threaded.trials).toEqual(here.trials);
    expect(threaded.best).toEqual(here.best);
    expect(threaded.bestPreds).toEqual(here.bestPreds);
  });
});

describe("out-of-fold neighbours", () => {
  /** Each row's k most similar rows in other folds, by exact dot product. */
  function bruteForce(vectors: readonly Float32Array[], folds: Int32Array, k: number): number[][] {
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
    return vectors.map((v, r) =>
      vectors
        .map((w, id) => ({ id, similarity: dot(v, w) }))
        .filter(({ id }) => folds[id] !== folds[r])
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, k)
        .map(({ id }) => id),
    );
  }
  const listOf = (rows: NeighbourRows, r: number) => Array.from(rows.ids.subarray(r * rows.stride, r * rows.stride + rows.counts[r]));

  it("filtered from one search per row, are each fold partition's nearest rows in the other folds", () => {
    const { vectors } = noisy(600, 7);
    const k = 20;
    const depth = outOfFoldDepth(k, 5, vectors.length);
    expect(depth).toBeLessThan(vectors.length);
    const nearest = nearestRows(vectors, depth);
    for (const seed of [1, 2]) {
      const folds = foldIds(vectors.length, 5, seed);
      const hits = outOfFold(nearest, folds, k);
      const expected = bruteForce(vectors, folds, k);
      vectors.forEach((_, r) => expect(listOf(hits, r)).toEqual(expected[r]));
    }
  });

  it("keep fewer than k when a row's list runs out of rows in other folds", () => {
    const { vectors } = noisy(12, 3);
    const folds = Int32Array.from({ length: 12 }, (_, i) => (i < 9 ? 0 : 1));
    const hits = outOfFold(nearestRows(vectors, 12), folds, 5);
    expect(hits.counts[0]).toBe(3); // fold 0's rows see only fold 1's three
    expect(hits.counts[11]).toBe(5);
    expect(listOf(hits, 0).sort((a, b) => a - b)).toEqual([9, 10, 11]);
  });
});

describe("the default count of fold partitions", () => {
  it("is 5 up to 10,000 prompts, then as many as keep about 50,000 out-of-fold predictions, at least 1", () => {
    const at = (n: number) => defaultCvRepeats(n);
    expect([0, 1, 300, 7024, 10_000].map(at)).toEqual([DEFAULT_CV_REPEATS, 5, 5, 5, 5]);
    expect([10_001, 12_500, 12_501, 14_042, 16_667, 25_000, 25_001, 45_000, 1_000_000].map(at)).toEqual([4, 4, 3, 3, 2, 2, 1, 1, 1]);
  });
});
