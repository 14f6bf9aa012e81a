import { describe, expect, it } from "vitest";
import { calibrateMargin } from "../../src/train/calibrate.js";
import { stratifiedFolds } from "../../src/train/folds.js";

describe("calibrateMargin", () => {
  it("picks the lowest margin whose accepted set still meets the target", () => {
    // Sorted by margin: 0.9 ok, 0.8 ok, 0.7 ok, 0.6 wrong, 0.5 ok, 0.4 wrong, 0.3 wrong
    const margins = [0.5, 0.9, 0.3, 0.7, 0.6, 0.8, 0.4];
    const correct = [true, true, false, true, false, true, false];
    const c = calibrateMargin(margins, correct, 0.8);
    // Accepting down to 0.5 gives 4/5 = 80%; down to 0.4 gives 4/6.
    expect(c.threshold).toBe(0.5);
    expect(c.coverage).toBeCloseTo(5 / 7);
    expect(c.acceptedAccuracy).toBeCloseTo(0.8);
    expect(c.reached).toBe(true);
  });

  it("does not cut between equal margins", () => {
    const c = calibrateMargin([0.5, 0.5, 0.2], [true, false, true], 0.9);
    expect(c.reached).toBe(false);
    expect(c.threshold).toBeGreaterThan(1);
    expect(c.coverage).toBe(0);
  });

  it("accepts everything when everything is right", () => {
    const c = calibrateMargin([0.1, 0.2], [true, true], 0.95);
    expect(c.threshold).toBe(0.1);
    expect(c.coverage).toBe(1);
  });
});

describe("stratifiedFolds", () => {
  it("spreads every label over the folds", () => {
    const targets = [...Array(30).keys()].map((i) => i % 3);
    const folds = stratifiedFolds(targets, 5, 1);
    for (let label = 0; label < 3; label++) for (let f = 0; f < 5; f++) expect(targets.filter((t, i) => t === label && folds[i] === f)).toHaveLength(2);
  });
});
