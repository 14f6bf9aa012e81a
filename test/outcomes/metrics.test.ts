import { describe, expect, it } from "vitest";
import { aiq, apgr, costAtQuality, cpt, nonDecreasingHull, pgr, savingAt, type Anchors, type CurvePoint } from "../../src/outcomes/metrics.js";
import { randomMixtures } from "../../src/outcomes/baselines.js";

const anchors: Anchors = { weakQuality: 0.5, weakCost: 1, strongQuality: 0.9, strongCost: 11 };
const pt = (strongFraction: number, quality: number, cost: number): CurvePoint => ({ dial: 0, quality, cost, strongFraction });
// PGR 0.5 at 20% strong calls, 0.9 at 50%.
const router = [pt(0.2, 0.7, 3), pt(0.5, 0.86, 6)];

describe("RouteLLM metrics on a hand-computed curve", () => {
  it("PGR is the share of the weak→strong gap", () => {
    expect(pgr(0.7, anchors)).toBeCloseTo(0.5, 12);
    expect(pgr(0.9, anchors)).toBeCloseTo(1, 12);
  });

  it("APGR is the trapezoid area under PGR over strong-call fraction, anchors included", () => {
    // (0,0)-(0.2,0.5)-(0.5,0.9)-(1,1): 0.05 + 0.21 + 0.475
    expect(apgr(router, anchors)).toBeCloseTo(0.735, 12);
  });

  it("CPT interpolates the strong-call fraction needed for a share of the gap", () => {
    expect(cpt(router, anchors, 0.5)).toBeCloseTo(0.2, 12);
    expect(cpt(router, anchors, 0.8)).toBeCloseTo(0.425, 12);
    expect(cpt(router, anchors, 1.2)).toBeNull();
  });

  it("random mixing scores APGR 0.5, CPT(50%) 0.5, CPT(80%) 0.8", () => {
    const weak = pt(0, 0.5, 1);
    const strong = pt(1, 0.9, 11);
    const random = randomMixtures(weak, strong);
    expect(apgr(random, anchors)).toBeCloseTo(0.5, 9);
    expect(cpt(random, anchors, 0.5)).toBeCloseTo(0.5, 9);
    expect(cpt(random, anchors, 0.8)).toBeCloseTo(0.8, 9);
    expect(aiq(random, anchors)).toBeCloseTo(0.7, 9);
  });

  it("a point worse than a cheaper one does not lower the curve", () => {
    expect(apgr([...router, pt(0.6, 0.6, 7)], anchors)).toBeCloseTo(0.735, 12);
  });
});

describe("RouterBench AIQ and cost savings", () => {
  it("AIQ is the area under the hull of quality vs cost divided by the cost range", () => {
    // (1,.5)-(3,.7)-(6,.86)-(11,.9): 1.2 + 2.34 + 4.4 = 7.94 over 10
    expect(aiq(router, anchors)).toBeCloseTo(0.794, 12);
  });

  it("the hull drops points under a chord, dominated points and points past the best quality", () => {
    const extra = [...router, pt(0.3, 0.72, 4), pt(0.7, 0.6, 7), pt(1, 0.85, 12)];
    expect(aiq(extra, anchors)).toBeCloseTo(0.794, 12);
    const hull = nonDecreasingHull(extra.map((p) => ({ x: p.cost, y: p.quality })));
    expect(hull).toEqual([
      { x: 3, y: 0.7 },
      { x: 6, y: 0.86 },
    ]);
  });

  it("a point above the chord raises the hull (and the old point on the new chord drops out)", () => {
    // (1,.5)-(4,.8)-(6,.86)-(11,.9): 1.95 + 1.66 + 4.4 = 8.01 over 10
    expect(aiq([...router, pt(0.3, 0.8, 4)], anchors)).toBeCloseTo(0.801, 12);
  });

  it("cost saving at 95% and 98% of the strong model's quality", () => {
    // 95%: 0.855 between (3,.7) and (6,.86) -> cost 3 + 3 * 0.155/0.16
    expect(costAtQuality(router, anchors, 0.95)).toBeCloseTo(5.90625, 12);
    expect(savingAt(router, anchors, 0.95)).toBeCloseTo(1 - 5.90625 / 11, 12);
    // 98%: 0.882 between (6,.86) and (11,.9) -> 8.75
    expect(savingAt(router, anchors, 0.98)).toBeCloseTo(1 - 8.75 / 11, 12);
    expect(savingAt(router, { ...anchors, strongQuality: 0.95, strongCost: 11 }, 1.01)).toBeNull();
  });
});
