import { describe, expect, it } from "vitest";
import { always } from "../../src/outcomes/baselines.js";
import { savingAt } from "../../src/outcomes/metrics.js";
import type { OutcomeSet } from "../../src/outcomes/set.js";
import { sweepRule } from "../../src/outcomes/sweep.js";
import { calibrateDial, dialPoint } from "../../src/outcomes/dial.js";
import { asSeries, MAX_PLOTTED } from "../../src/outcomes/svg.js";

/**
 * Two models, 600 prompts: the weak model fails prompt i when i is a multiple of 3, the strong one
 * never does. Predictions rank prompts by i with distinct gaps, so every prompt is its own setting.
 */
function ranked(n = 600): { set: OutcomeSet; preds: Float64Array[] } {
  const prompts = [...Array(n).keys()].map((i) => ({
    id: `p${i}`,
    text: `p${i}`,
    scores: Float64Array.from([i % 3 === 0 ? 0 : 1, 1]),
    costs: Float64Array.from([0.001, 0.02]),
    where: `synthetic:${i}`,
  }));
  // The gap grows with i: a tolerance under it keeps prompt i on the strong model.
  const preds = prompts.map((_, i) => Float64Array.from([0.5, 0.5 + (n - i) / n]));
  return { set: { models: ["weak", "strong"], prompts, costSource: "data", notes: [] }, preds };
}

describe("sweeping the dial over held-out predictions", () => {
  it("with no limit, has a point at every setting where a choice changes, and so reaches 95% at the finest step", () => {
    const { set, preds } = ranked();
    const w = always(set, 0, 1);
    const s = always(set, 1, 1);
    const anchors = { weakQuality: w.quality, weakCost: w.cost, strongQuality: s.quality, strongCost: s.cost };
    const fine = sweepRule(set, preds, [0, 1], [0.05, 1], 1, "tolerance", Infinity);
    const coarse = sweepRule(set, preds, [0, 1], [0.05, 1], 1, "tolerance");
    expect(fine.points.length).toBe(601); // 0 and 600 distinct gaps
    expect(coarse.points.length).toBeLessThanOrEqual(200);
    // 95% of quality 1 needs all but 30 failures of the weak model's 200 covered: prompts 0..507 strong (170 of 200 failures).
    const needed = 1 - (508 * 0.02 + 92 * 0.001) / (600 * 0.02);
    expect(savingAt(fine.points, anchors, 0.95)).toBeCloseTo(needed, 12);
    expect(savingAt(coarse.points, anchors, 0.95)!).toBeLessThan(needed - 1e-6);
    // The choices behind a point are the ones its quality and cost came from.
    const at = fine.choicesAt(100);
    expect(at.filter((m) => m === 1).length).toBe(Math.round(fine.points[100].strongFraction * 600));
  });

  it("the lambda rule too", () => {
    const { set, preds } = ranked(300);
    const fine = sweepRule(set, preds, [0, 1], [0.05, 1], 1, "lambda", Infinity);
    expect(fine.points.length).toBe(302); // 0, 300 breakpoints, then one past the last
    expect(sweepRule(set, preds, [0, 1], [0.05, 1], 1, "lambda").points.length).toBeLessThanOrEqual(201);
  });
});

describe("plotting a fine sweep", () => {
  it("draws at most MAX_PLOTTED points of a curve, its first and last included", () => {
    const points = [...Array(5000).keys()].map((i) => ({ dial: i, quality: i / 5000, cost: i, strongFraction: i / 5000 }));
    const drawn = asSeries("router", "#000", points).points;
    expect(drawn.length).toBeLessThanOrEqual(MAX_PLOTTED);
    expect(drawn[0]).toEqual(points[0]);
    expect(drawn.at(-1)).toEqual(points.at(-1));
    expect(asSeries("few", "#000", points.slice(0, 10)).points).toHaveLength(10);
  });
});

describe("calibrating the served dial", () => {
  it("keeps every setting of 600 training prompts, so a quality floor lands on the cheapest one reaching it", () => {
    const { set, preds } = ranked();
    const calibration = calibrateDial(set, [preds], { byCost: [0, 1], relativeCost: [0.05, 1], strong: 1 }, "tolerance", 5);
    expect(calibration.points).toHaveLength(601); // halfway between the 601 breakpoints, and one past the last
    const at = dialPoint(calibration, { quality: 0.95 });
    // As the sweep above: prompts 0..507 on the strong model, 570 of 600 right.
    expect(at.quality).toBeCloseTo(570 / 600, 12);
    expect(at.cost).toBeCloseTo((508 * 0.02 + 92 * 0.001) / (600 * 0.02), 12);
  });

  it("pools every fold partition's out-of-fold predictions, so one lucky partition does not place the dial", () => {
    // Prompt 0 only the strong model answers; prompt 1 both. Partition A ranks them right, B the wrong way round.
    const prompts = [0, 1].map((i) => ({ id: `p${i}`, text: `p${i}`, scores: Float64Array.of(i, 1), costs: Float64Array.of(0.001, 0.02), where: `synthetic:${i}` }));
    const set: OutcomeSet = { models: ["weak", "strong"], prompts, costSource: "data", notes: [] };
    const wide = Float64Array.of(0.4, 0.9); // gap 0.5
    const narrow = Float64Array.of(0.8, 0.9); // gap 0.1
    const router = { byCost: [0, 1], relativeCost: [0.05, 1], strong: 1 };
    const lucky = calibrateDial(set, [[wide, narrow]], router, "tolerance", 5);
    const pooled = calibrateDial(
      set,
      [
        [wide, narrow],
        [narrow, wide],
      ],
      router,
      "tolerance",
      5,
    );
    // Tolerance between the gaps: A keeps prompt 0 strong (quality 1), B keeps prompt 1 strong (quality 1/2).
    const between = (c: typeof pooled) => c.points.find((p) => p.setting > 0.1 && p.setting < 0.5)!;
    expect(between(lucky)).toMatchObject({ quality: 1, cost: 0.021 / 0.04 });
    expect(between(pooled).quality).toBeCloseTo(0.75, 12);
    expect(between(pooled).cost).toBeCloseTo(0.021 / 0.04, 12);
    expect(dialPoint(lucky, { quality: 0.95 }).cost).toBeCloseTo(0.525, 12);
    expect(dialPoint(pooled, { quality: 0.95 })).toMatchObject({ quality: 1, cost: 1 });
    expect(pooled.rows).toBe(2);
  });
});
