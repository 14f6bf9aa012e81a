import { describe, expect, it } from "vitest";
import { bestIndex, foldMeanAndSe, oneStandardErrorIndex, predictionSpread, selectIndex } from "../../src/outcomes/select.js";

describe("choosing among cross-validated candidates", () => {
  // Hand-made figures: the best mean is 0.780 ± 0.010; two candidates sit within one standard error.
  const candidates = [
    { mean: 0.775, se: 0.01, spread: 0.09 }, // within, spread out
    { mean: 0.78, se: 0.01, spread: 0.12 }, // the best
    { mean: 0.772, se: 0.012, spread: 0.04 }, // within, the least spread
    { mean: 0.76, se: 0.01, spread: 0.01 }, // least spread of all, but beyond one standard error
  ];

  it("the highest mean is what 'best' picks; the one-standard-error rule takes the least spread within one SE of it", () => {
    expect(bestIndex(candidates)).toBe(1);
    expect(selectIndex(candidates, "best")).toBe(1);
    expect(oneStandardErrorIndex(candidates)).toBe(2);
    expect(selectIndex(candidates, "one-se")).toBe(2);
  });

  it("with no candidate near the best, both rules agree", () => {
    const clear = [candidates[1], { mean: 0.7, se: 0.01, spread: 0.01 }];
    expect(oneStandardErrorIndex(clear)).toBe(bestIndex(clear));
  });

  it("fold scores give a mean over every fold and the standard error of one partition's folds", () => {
    const { mean, se } = foldMeanAndSe([
      [0.7, 0.8],
      [0.75, 0.75],
    ]);
    expect(mean).toBeCloseTo(0.75, 12);
    // sd of (0.7, 0.8) is 0.0707, / √2 = 0.05; the second partition's is 0; averaged: 0.025.
    expect(se).toBeCloseTo(0.025, 12);
    expect(() => foldMeanAndSe([[]])).toThrow(/no fold was scored/);
  });

  it("spread is the mean over models of each model's standard deviation over rows", () => {
    expect(predictionSpread([Float64Array.of(0.2, 1), Float64Array.of(0.6, 1)])).toBeCloseTo(0.1, 12);
    expect(predictionSpread([])).toBe(0);
  });
});
