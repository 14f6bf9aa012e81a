import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { always, ruleCurve } from "../../src/outcomes/baselines.js";
import { bootstrapSavings, cheapestReaching, percentile, staircase } from "../../src/outcomes/bootstrap.js";
import { costAtQuality, savingAt } from "../../src/outcomes/metrics.js";
import type { OutcomeSet } from "../../src/outcomes/set.js";
import { relativeCosts } from "../../src/outcomes/cv.js";
import { sweepRule, type ChoiceRule } from "../../src/outcomes/sweep.js";

/** n prompts, three models (cheap, middle, dear) right with rising chance, and noisy predictions of that. */
function noisy(n: number, seed = 7): { set: OutcomeSet; preds: Float64Array[] } {
  const random = seededRandom(seed);
  const chance = [0.55, 0.7, 0.85];
  const prompts = [...Array(n).keys()].map((i) => {
    const hard = random();
    return {
      id: `p${i}`,
      text: `p${i} ${"word ".repeat(Math.floor(hard * 40))}`,
      scores: Float64Array.from(chance, (c) => (random() < c - hard * 0.4 ? 1 : 0)),
      costs: Float64Array.from([0.001, 0.004, 0.02], (c) => c * (1 + hard)),
      where: `synthetic:${i}`,
    };
  });
  const preds = prompts.map((p) => Float64Array.from(p.scores, (s) => 0.3 * s + 0.7 * random()));
  return { set: { models: ["cheap", "middle", "dear"], prompts, costSource: "data", notes: [] }, preds };
}

const table = (set: OutcomeSet) => {
  const m = set.models.length;
  const scores = new Float64Array(set.prompts.length * m);
  const costs = new Float64Array(set.prompts.length * m);
  set.prompts.forEach((p, i) => {
    scores.set(p.scores, i * m);
    costs.set(p.costs, i * m);
  });
  return { scores, costs, models: m };
};

describe("bootstrap intervals of saving at 95%", () => {
  it("a staircase replays every point's choices from the first and the changes", () => {
    const { set, preds } = noisy(200);
    const sweep = sweepRule(set, preds, [0, 1, 2], relativeCosts(set), 2, "lambda", Infinity);
    const s = staircase(sweep.points.length, sweep.choicesAt);
    const choice = Int32Array.from(s.start);
    for (let k = 0; k < sweep.points.length; k++) {
      for (let e = s.offsets[k]; e < s.offsets[k + 1]; e++) choice[s.prompts[e]] = s.models[e];
      expect([...choice]).toEqual(sweep.choicesAt(k));
    }
    expect(s.prompts.length).toBeLessThan(sweep.points.length * set.prompts.length); // changes only
  });

  for (const rule of ["tolerance", "lambda"] as ChoiceRule[])
    it(`with every prompt drawn once, gives the report's own cost at 95% (${rule})`, () => {
      const { set, preds } = noisy(300);
      const sweep = sweepRule(set, preds, [0, 1, 2], relativeCosts(set), 2, rule, Infinity);
      const w = always(set, 0, 2);
      const st = always(set, 2, 2);
      const anchors = { weakQuality: w.quality, weakCost: w.cost, strongQuality: st.quality, strongCost: st.cost };
      const cost = cheapestReaching(staircase(sweep.points.length, sweep.choicesAt), table(set), new Float64Array(300).fill(1), 0.95 * st.quality, [w, st]);
      expect(cost).not.toBeNull();
      expect(cost).toBeCloseTo(costAtQuality(sweep.points, anchors, 0.95)!, 9);
    });

  it("brackets the saving, narrows with more test prompts, and ties a router with itself", () => {
    const run = (n: number) => {
      const { set, preds } = noisy(n);
      const sweep = sweepRule(set, preds, [0, 1, 2], relativeCosts(set), 2, "lambda", Infinity);
      const router = staircase(sweep.points.length, sweep.choicesAt);
      const w = always(set, 0, 2);
      const st = always(set, 2, 2);
      const point = savingAt(sweep.points, { weakQuality: w.quality, weakCost: w.cost, strongQuality: st.quality, strongCost: st.cost }, 0.95)!;
      return { point, u: bootstrapSavings({ set, weak: 0, strong: 2, router, rules: router, resamples: 400, seed: 3 }) };
    };
    const small = run(100);
    const large = run(1600);
    for (const { point, u } of [small, large]) {
      expect(u.router.low!).toBeLessThanOrEqual(point);
      expect(u.router.high!).toBeGreaterThanOrEqual(point);
      expect(u.versus.rules).toEqual({ low: 0, high: 0, atLeast: 1 }); // the same curve as "rules"
    }
    expect(large.u.router.high! - large.u.router.low!).toBeLessThan((small.u.router.high! - small.u.router.low!) / 2);
  });

  it("compares with the zero router and the rules on the same draws", () => {
    const { set, preds } = noisy(400);
    const sweep = sweepRule(set, preds, [0, 1, 2], relativeCosts(set), 2, "lambda", Infinity);
    const rules = ruleCurve(set, 0, 2);
    const u = bootstrapSavings({
      set,
      weak: 0,
      strong: 2,
      router: staircase(sweep.points.length, sweep.choicesAt),
      rules: staircase(rules.points.length, (k) => rules.choices[k]),
      resamples: 200,
      seed: 1,
    });
    expect(u.resamples).toBe(200);
    for (const k of ["rules", "zero", "random"] as const) {
      expect(u.versus[k].atLeast).toBeGreaterThanOrEqual(0);
      expect(u.versus[k].atLeast).toBeLessThanOrEqual(1);
      expect(u.versus[k].low!).toBeLessThanOrEqual(u.versus[k].high!);
    }
    expect(u.zero.low!).toBeLessThanOrEqual(u.zero.high!);
  });

  it("percentiles interpolate, and a bound on 'never reached' is null", () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
    expect(percentile([-Infinity, -Infinity, 0.3, 0.4], 0.025)).toBeNull();
    expect(percentile([], 0.5)).toBeNull();
  });
});
