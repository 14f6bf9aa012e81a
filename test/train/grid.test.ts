import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { combine, decide } from "../../src/model/scoring.js";
import { countCorrect, flatten } from "../../src/train/grid.js";

describe("the combination grid's inner loop", () => {
  it("counts exactly what combine() then decide() would, zero weights and tied scores included", () => {
    const random = seededRandom(11);
    const L = 7;
    const n = 400;
    // Coarse values make ties common: decide() keeps the first of equal scores, so must the loop.
    const rows = () => Array.from({ length: n }, () => Float64Array.from({ length: L }, () => Math.floor(random() * 4) / 4));
    const knn = rows();
    const centroid = rows();
    const head = rows();
    const targets = Int32Array.from({ length: n }, () => Math.floor(random() * L));
    const flat = { knn: flatten(knn, L), centroid: flatten(centroid, L), head: flatten(head, L) };
    for (const [a, b] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [0.3, 0.3],
      [0.1, 0.7],
      [0.5, 0],
    ]) {
      const c = { knn: a, centroid: b, head: 1 - a - b, k: 5, knnTemperature: 0.05, centroidTemperature: 0.05 };
      let expected = 0;
      for (let i = 0; i < n; i++) if (decide(combine({ knn: knn[i], centroid: centroid[i], head: head[i] }, c)).best === targets[i]) expected++;
      expect(countCorrect(flat.knn, flat.centroid, flat.head, c, targets, L)).toBe(expected);
    }
  });
});
