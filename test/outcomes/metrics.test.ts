import { describe, expect, it } from "vitest";
import {
  aiq,
  aiqStaircase,
  apgr,
  apgrHull,
  costAtQualityHull,
  cpt,
  cptHull,
  nonDecreasingHull,
  pgr,
  randomSaving,
  savingAt,
  savingAtHull,
  summarise,
  type Anchors,
  type CurvePoint,
} from "../../src/outcomes/metrics.js";
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

  it("a point worse than a cheaper one lowers the router's own curve, not the hull", () => {
    // (0,0)-(0.2,0.5)-(0.5,0.9)-(0.6,0.25)-(1,1): 0.05 + 0.21 + 0.0575 + 0.25
    expect(apgr([...router, pt(0.6, 0.6, 7)], anchors)).toBeCloseTo(0.5675, 12);
    expect(apgrHull([...router, pt(0.6, 0.6, 7)], anchors)).toBeCloseTo(0.735, 12);
  });
});

describe("RouterBench AIQ and cost savings", () => {
  it("AIQ is the area under the hull of quality vs cost divided by the cost range", () => {
    // (1,.5)-(3,.7)-(6,.86)-(11,.9): 1.2 + 2.34 + 4.4 = 7.94 over 10
    expect(aiq(router, anchors)).toBeCloseTo(0.794, 12);
  });

  it("AIQ on the staircase of real settings: the best quality reachable within each budget, no mixing", () => {
    // (1,.5) until 3, .7 until 6, .86 until 11: 2*.5 + 3*.7 + 5*.86 = 7.4 over 10
    expect(aiqStaircase(router, anchors)).toBeCloseTo(0.74, 12);
    // Only the two models: the weak model's quality across the whole range, where the hull's AIQ is their midpoint.
    expect(aiqStaircase([], anchors)).toBeCloseTo(0.5, 12);
    expect(aiq([], anchors)).toBeCloseTo(0.7, 12);
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

  it("cost saving at 95% and 98%: at a real dial setting, and on the hull (mixing two settings)", () => {
    // 95% = 0.855: the cheapest setting reaching it is (6, .86); on the hull, between (3,.7) and (6,.86): 3 + 3 * 0.155/0.16
    expect(savingAt(router, anchors, 0.95)).toBeCloseTo(1 - 6 / 11, 12);
    expect(costAtQualityHull(router, anchors, 0.95)).toBeCloseTo(5.90625, 12);
    expect(savingAtHull(router, anchors, 0.95)).toBeCloseTo(1 - 5.90625 / 11, 12);
    // 98% = 0.882: only always-strong reaches it; on the hull between (6,.86) and (11,.9) -> 8.75
    expect(savingAt(router, anchors, 0.98)).toBeCloseTo(0, 12);
    expect(savingAtHull(router, anchors, 0.98)).toBeCloseTo(1 - 8.75 / 11, 12);
    expect(savingAt(router, { ...anchors, strongQuality: 0.95, strongCost: 11 }, 1.01)).toBeNull();
  });
});

describe("metrics on the router's own curve, by hand", () => {
  it("a router worse than random: APGR below 0.5 on its own curve, 0.5 only on the hull; net saving negative", () => {
    const a: Anchors = { weakQuality: 0.5, weakCost: 1, strongQuality: 0.9, strongCost: 11 };
    const worse = [pt(0.5, 0.58, 6)]; // PGR 0.2 at half the calls strong
    // (0,0)-(0.5,0.2)-(1,1): 0.05 + 0.3
    expect(apgr(worse, a)).toBeCloseTo(0.35, 12);
    expect(apgrHull(worse, a)).toBeCloseTo(0.5, 12);
    // PGR 0.5 and 0.8 on the segment (0.5,0.2)-(1,1)
    expect(cpt(worse, a, 0.5)).toBeCloseTo(0.6875, 12);
    expect(cpt(worse, a, 0.8)).toBeCloseTo(0.875, 12);
    expect(cptHull(worse, a, 0.5)).toBeCloseTo(0.5, 12);
    // 95% = 0.855: only always-strong reaches it; random mixing needs p = 0.355/0.4 = 0.8875, cost 9.875
    const s = summarise(worse, a);
    expect(s.saving95).toBeCloseTo(0, 12);
    expect(randomSaving(a, 0.95)).toBeCloseTo(1 - 9.875 / 11, 12);
    expect(s.saving95Net).toBeCloseTo(-(1 - 9.875 / 11), 12);
    expect(s.hull.saving95).toBeCloseTo(1 - 9.875 / 11, 12);
  });

  it("more than two models: settings that call the strong model equally often count at their best", () => {
    // weak 0.4 for $1, strong 0.8 for $10; a middle model makes points with no strong calls above the weak model
    const a: Anchors = { weakQuality: 0.4, weakCost: 1, strongQuality: 0.8, strongCost: 10 };
    const points = [pt(0, 0.5, 2), pt(0, 0.6, 4), pt(0.5, 0.78, 7)];
    // PGR curve (0,0.5)-(0.5,0.95)-(1,1): 0.3625 + 0.4875
    expect(apgr(points, a)).toBeCloseTo(0.85, 12);
    expect(cpt(points, a, 0.5)).toBeCloseTo(0, 12);
    expect(cpt(points, a, 0.8)).toBeCloseTo(0.5 * (0.3 / 0.45), 12);
    const s = summarise(points, a);
    // 95% = 0.76: the $7 setting; random: p = 0.9, cost 9.1
    expect(s.saving95).toBeCloseTo(0.3, 12);
    expect(s.saving95Net).toBeCloseTo(0.3 - 0.09, 12);
    // hull (1,.4)-(2,.5)-(7,.78)-(10,.8): 0.76 at 2 + 5 * 0.26/0.28
    expect(s.hull.saving95).toBeCloseTo(1 - (2 + (5 * 0.26) / 0.28) / 10, 12);
  });

  it("a weak model dearer than the strong one: random mixing saves nothing, so net = gross", () => {
    const a: Anchors = { weakQuality: 0.6, weakCost: 12, strongQuality: 0.9, strongCost: 10 };
    const points = [pt(0.4, 0.87, 6)]; // PGR 0.9
    // (0,0)-(0.4,0.9)-(1,1): 0.18 + 0.57
    expect(apgr(points, a)).toBeCloseTo(0.75, 12);
    const s = summarise(points, a);
    expect(randomSaving(a, 0.95)).toBe(0); // p = 0.85 would cost 10.3, more than the strong model alone
    expect(s.saving95).toBeCloseTo(0.4, 12);
    expect(s.saving95Net).toBeCloseTo(0.4, 12);
    expect(s.hull.saving95).toBeCloseTo(0.4, 12);
    // AIQ over [10, 12]: the hull is flat at the strong model's 0.9 there
    expect(s.aiq).toBeCloseTo(0.9, 12);
  });

  it("a zero quality gap: APGR and CPT are undefined (null), the saving is the weak model's and none of it is the router's", () => {
    const a: Anchors = { weakQuality: 0.7, weakCost: 1, strongQuality: 0.7, strongCost: 10 };
    const s = summarise([pt(0.5, 0.7, 5)], a);
    expect(s.apgr).toBeNull();
    expect(s.cpt50).toBeNull();
    expect(s.hull.apgr).toBeNull();
    expect(s.saving95).toBeCloseTo(0.9, 12);
    expect(randomSaving(a, 0.95)).toBeCloseTo(0.9, 12);
    expect(s.saving95Net).toBeCloseTo(0, 12);
  });
});
