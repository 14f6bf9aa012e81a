import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { fitPca, project } from "../../src/train/pca.js";

describe("fitPca", () => {
  // Points spread widely along (1, 1, 0)/√2, a little along z, hardly along (1, -1, 0)/√2, around (5, 5, 5).
  const random = seededRandom(4);
  const points = Array.from({ length: 500 }, () => {
    const a = (random() - 0.5) * 10;
    const b = (random() - 0.5) * 0.1;
    const c = (random() - 0.5) * 2;
    return Float32Array.from([5 + (a + b) / Math.SQRT2, 5 + (a - b) / Math.SQRT2, 5 + c]);
  });

  it("finds the directions of largest variance, largest first, and reports the variance kept", () => {
    const p = fitPca(points, 2);
    expect(p.outputDims).toBe(2);
    expect(Math.abs(p.components[0] * Math.SQRT1_2 + p.components[1] * Math.SQRT1_2)).toBeCloseTo(1, 3);
    expect(Math.abs(p.components[3 + 2])).toBeCloseTo(1, 3);
    // Variances ~ 100/12, 4/12 and 0.01/12: two directions keep nearly all of it.
    expect(p.varianceKept).toBeGreaterThan(0.999);
    expect(p.varianceKept).toBeLessThan(1);
    expect(Array.from(p.mean).map((m) => Math.round(m))).toEqual([5, 5, 5]);
  });

  it("projects centred points, optionally to unit length", () => {
    const p = fitPca(points, 1);
    // Three units from the fitted mean along the first direction.
    const x = Float32Array.from(p.mean, (m, d) => m + 3 * p.components[d] + (d === 2 ? 1 : 0));
    expect(project(p, x)[0]).toBeCloseTo(3, 1); // the z offset leaks in only as far as the fitted direction tilts
    expect(project(p, x, true)[0]).toBeCloseTo(1, 6);
  });
});
