import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { DEFAULT_CENTROIDS } from "../../src/model/centroids.js";
import { DEFAULT_HEAD } from "../../src/model/head.js";
import { DEFAULT_HNSW } from "../../src/model/hnsw.js";
import { DEFAULT_LEXICAL } from "../../src/model/lexical.js";
import { crossValidate } from "../../src/train/crossval.js";

/** Three labels, each a noisy direction and its own words: real HNSW, centroids and head fit on it. */
function data(n: number) {
  const random = seededRandom(5);
  const words = [
    ["card", "lost", "stolen"],
    ["refund", "money", "back"],
    ["password", "reset", "login"],
  ];
  const targets = Array.from({ length: n }, (_, i) => i % 3);
  const texts = targets.map((t, i) => `${words[t][i % 3]} ${words[t][(i + 1) % 3]} ${i}`);
  const vectors = targets.map((t) => {
    const v = Float32Array.from({ length: 8 }, (_, d) => (d === t ? 1 : 0) + (random() - 0.5) * 0.6);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  return { texts, vectors, targets };
}

const params = {
  hnsw: DEFAULT_HNSW,
  head: { ...DEFAULT_HEAD, epochs: 3 },
  centroids: DEFAULT_CENTROIDS,
  lexical: { ...DEFAULT_LEXICAL, buckets: 1 << 10 },
  folds: 3,
  targetAccuracy: 0.9,
  noveltyRate: 0.05,
  seed: 1,
};

describe("cross-validation with a fixed split", () => {
  it("fits once without the held-out examples and scores only them", async () => {
    const { texts, vectors, targets } = data(90);
    const split = Int32Array.from(targets, (_, i) => (i % 5 === 0 ? 0 : -1));
    let fits = 0;
    const cv = await crossValidate(texts, vectors, targets, ["a", "b", "c"], params, () => fits++, undefined, split);
    expect(fits).toBe(1);
    const held = [...split.keys()].filter((i) => split[i] === 0);
    for (let i = 0; i < texts.length; i++) {
      if (split[i] === 0) {
        expect(cv.predicted[i]).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(cv.margins[i]) && Number.isFinite(cv.nearest[i])).toBe(true);
      } else {
        expect([cv.predicted[i], cv.margins[i], cv.nearest[i]]).toEqual([-1, Number.NaN, Number.NaN]);
      }
    }
    // Accuracy is that of the held-out examples alone (18 of them, an easy problem).
    const correct = held.filter((i) => cv.predicted[i] === targets[i]).length;
    expect(cv.metrics.accuracy).toBeCloseTo(correct / held.length, 10);
    expect(correct).toBeGreaterThan(15);
  });

  it("without one, scores every example out of fold", async () => {
    const { texts, vectors, targets } = data(60);
    let fits = 0;
    const cv = await crossValidate(texts, vectors, targets, ["a", "b", "c"], params, () => fits++);
    expect(fits).toBe(3);
    expect([...cv.predicted].every((p) => p >= 0)).toBe(true);
  });

  it("with per-fold vectors, fits and scores each fold on the vectors that fold's encoder gives", async () => {
    const { texts, vectors, targets } = data(60);
    const split = Int32Array.from(targets, (_, i) => Math.floor(i / 3) % 3);
    // Fold 1's encoder sees its own examples as the next label: those, and only those, then come out wrong.
    const shifted = (i: number) => vectors.find((_, j) => targets[j] === (targets[i] + 1) % 3 && split[j] !== 1) as Float32Array;
    const asked: number[] = [];
    const cv = await crossValidate(
      texts,
      async (f) => {
        asked.push(f);
        return { vectors: vectors.map((v, i) => (f === 1 && split[i] === 1 ? shifted(i) : v)) };
      },
      targets,
      ["a", "b", "c"],
      { ...params, lexical: { ...params.lexical, buckets: 2 } },
      undefined,
      undefined,
      split,
    );
    expect(asked.sort()).toEqual([0, 1, 2]);
    const wrong = (f: number) => [...split.keys()].filter((i) => split[i] === f && cv.predicted[i] !== targets[i]).length;
    expect(wrong(1)).toBeGreaterThan(15);
    expect(wrong(0) + wrong(2)).toBeLessThan(5);
  });
});
