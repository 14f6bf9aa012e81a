import { describe, expect, it } from "vitest";
import type { Calibration } from "../../src/model/confidence.js";
import { fitBlend } from "../../src/train/blend.js";

const calibration: Calibration = { targetAccuracy: 0.9, threshold: 0.42, coverage: 0.8, acceptedAccuracy: 0.9, reached: true, curve: [], noveltyRate: 0.05, minSimilarity: 0.3 };
const scores = (...p: number[]) => Float64Array.from(p);

describe("fitBlend", () => {
  it("blends in the static stage's scores when that corrects the full stage, and refits the threshold", () => {
    // The full stage is narrowly wrong where the static stage is clearly right, and the other way round.
    const full = [scores(0.45, 0.55), scores(0.9, 0.1), scores(0.1, 0.9), scores(0.48, 0.52)];
    const fast = [scores(0.9, 0.1), scores(0.6, 0.4), scores(0.2, 0.8), scores(0.95, 0.05)];
    const targets = [0, 0, 1, 0];
    const b = fitBlend(full, fast, targets, calibration);
    expect(b.fullAccuracy).toBe(0.5);
    expect(b.accuracy).toBe(1);
    // 0.1 already fixes the last example but not the first (0.9 x 0.45 + 0.1 x 0.9 = 0.495): 0.2 is the smallest that fixes both.
    expect(b.weight).toBe(0.2);
    expect([...b.predicted]).toEqual(targets);
    expect(b.margins[0]).toBeCloseTo(0.8 * 0.45 + 0.2 * 0.9 - (0.8 * 0.55 + 0.2 * 0.1), 12);
    expect(b.calibration.threshold).not.toBe(calibration.threshold);
    expect(b.calibration).toMatchObject({ targetAccuracy: 0.9, noveltyRate: 0.05, minSimilarity: 0.3 });
  });

  it("keeps the full stage alone, and its own calibration, when blending gains nothing", () => {
    const full = [scores(0.2, 0.8), scores(0.7, 0.3)];
    const fast = [scores(0.6, 0.4), scores(0.4, 0.6)];
    const b = fitBlend(full, fast, [1, 0], calibration);
    expect(b.weight).toBe(0);
    expect(b.calibration).toEqual(calibration);
    expect([b.accuracy, b.fullAccuracy]).toEqual([1, 1]);
  });
});
