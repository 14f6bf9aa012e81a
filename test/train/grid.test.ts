import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { combine, decide } from "../../src/model/scoring.js";
import { contenders, countCorrect, decideEach, flatten } from "../../src/train/grid.js";

/** The next double above a positive x. */
function nextUp(x: number): number {
  const bits = new BigInt64Array(Float64Array.of(x).buffer);
  bits[0] += 1n;
  return new Float64Array(bits.buffer)[0];
}

/** Weightings with zero parts and without, as the grid search tries them. */
const WEIGHTINGS = [
  [0, 0],
  [1, 0],
  [0, 1],
  [0.3, 0.3],
  [0.1, 0.7],
  [0.5, 0],
].map(([a, b]) => ({ knn: a, centroid: b, head: 1 - a - b, k: 5, knnTemperature: 0.05, centroidTemperature: 0.05 }));

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
    for (const c of WEIGHTINGS) {
      let expected = 0;
      for (let i = 0; i < n; i++) if (decide(combine({ knn: knn[i], centroid: centroid[i], head: head[i] }, c)).best === targets[i]) expected++;
      expect(countCorrect(flat.knn, flat.centroid, flat.head, c, targets, L)).toBe(expected);
    }
  });

  it("counts the same over each example's contenders alone, and leaves out most labels of peaked distributions", () => {
    const random = seededRandom(12);
    const L = 30;
    const n = 500;
    // Ties (coarse values), zeros (k-NN mass on a few labels) and near-ties a rounding step apart.
    const coarse = () => Float64Array.from({ length: n * L }, () => Math.floor(random() * 3) / 4);
    const peaked = () => {
      const out = new Float64Array(n * L);
      for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) out[i * L + Math.floor(random() * L)] += random();
      return out;
    };
    const near = (x: Float64Array) => x.map((v) => (random() < 0.3 ? v * (1 + Number.EPSILON) : v));
    const targets = Int32Array.from({ length: n }, (_, i) => (i % 2 ? 0 : Math.floor(random() * L)));
    const cases = [
      [coarse(), coarse(), coarse()],
      [peaked(), peaked(), peaked()],
      [peaked(), coarse(), coarse()],
    ];
    const base = peaked();
    cases.push([base, near(base), near(base)]);
    // Label 1 leads label 0 by one rounding step in every part: weighted, the two often tie, and then label 0 wins.
    const step = () => {
      const out = new Float64Array(n * L);
      for (let i = 0; i < n; i++) {
        out[i * L] = random();
        out[i * L + 1] = nextUp(out[i * L]);
      }
      return out;
    };
    const stepped = step();
    cases.push([stepped, stepped, stepped]);
    let kept = 0;
    for (const [knn, centroid, head] of cases) {
      const only = contenders(knn, centroid, head, n, L);
      kept += only.labels.length;
      for (let a = 0; a <= 10; a++)
        for (let b = 0; a + b <= 10; b++) {
          const w = { knn: a / 10, centroid: b / 10, head: (10 - a - b) / 10 };
          expect(countCorrect(knn, centroid, head, w, targets, L, only), `${a}/${b}`).toBe(countCorrect(knn, centroid, head, w, targets, L));
        }
    }
    expect(kept).toBeLessThan((cases.length * n * L) / 2);
  });

  it("decides each example as combine() then decide() would: label, and margin over the runner-up", () => {
    const random = seededRandom(13);
    const L = 6;
    const n = 300;
    const rows = () => Array.from({ length: n }, () => Float64Array.from({ length: L }, () => Math.floor(random() * 4) / 4));
    const [knn, centroid, head] = [rows(), rows(), rows()];
    for (const c of WEIGHTINGS) {
      const got = decideEach(flatten(knn, L), flatten(centroid, L), flatten(head, L), c, n, L);
      const want = knn.map((_, i) => decide(combine({ knn: knn[i], centroid: centroid[i], head: head[i] }, c)));
      expect([...got.predicted]).toEqual(want.map((d) => d.best));
      expect([...got.margins]).toEqual(want.map((d) => d.margin));
    }
  });
});
