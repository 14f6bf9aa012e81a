/**
 * Cost–quality metrics of the routing literature, on curves of operating points.
 *  - RouteLLM (Ong et al. 2024): PGR, APGR, CPT(x) over the strong-call fraction.
 *  - RouterBench (Hu et al. 2024): AIQ, area under the non-decreasing convex hull of quality vs cost.
 * Every router may also run at its dial's two extremes (all weak, all strong), so both anchors join every curve.
 */

export interface CurvePoint {
  /** The dial setting that produced the point (tolerance, length cut-off, mixing probability...). */
  dial: number;
  /** Mean score of the chosen models. */
  quality: number;
  /** Total cost in USD of the chosen models. */
  cost: number;
  /** Share of prompts sent to the strong model, 0..1. */
  strongFraction: number;
}

/** Reference points on the same test rows: always the weak (cheapest) model, always the strong (best) model. */
export interface Anchors {
  weakQuality: number;
  weakCost: number;
  strongQuality: number;
  strongCost: number;
}

interface XY {
  x: number;
  y: number;
}

/** Performance gap recovered: 0 at the weak model's quality, 1 at the strong model's. */
export function pgr(quality: number, a: Anchors): number {
  const gap = a.strongQuality - a.weakQuality;
  return gap === 0 ? 0 : (quality - a.weakQuality) / gap;
}

/** Points nobody would pick removed: keeps, by increasing x, only those better than every cheaper one. */
function paretoFront(points: readonly XY[]): XY[] {
  const sorted = [...points].sort((p, q) => p.x - q.x || q.y - p.y);
  const out: XY[] = [];
  for (const p of sorted) if (out.length === 0 || p.y > out[out.length - 1].y) out.push(p);
  return out;
}

/** Upper convex hull of the Pareto front: any point on a segment is reachable by mixing its two ends per request. */
export function nonDecreasingHull(points: readonly XY[]): XY[] {
  const front = paretoFront(points);
  const hull: XY[] = [];
  for (const p of front) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2];
      const b = hull[hull.length - 1];
      // Drop b when it lies on or below the segment a→p.
      if ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= 0) hull.pop();
      else break;
    }
    hull.push(p);
  }
  return hull;
}

/** Value of a piecewise-linear non-decreasing curve at x (flat beyond its ends). */
function valueAt(curve: readonly XY[], x: number): number {
  if (x <= curve[0].x) return curve[0].y;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1];
    const b = curve[i];
    if (x <= b.x) return b.x === a.x ? b.y : a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
  }
  return curve[curve.length - 1].y;
}

/** Exact area under a piecewise-linear curve between lo and hi. */
function areaBetween(curve: readonly XY[], lo: number, hi: number): number {
  const xs = [lo, ...curve.map((p) => p.x).filter((x) => x > lo && x < hi), hi];
  let area = 0;
  for (let i = 1; i < xs.length; i++) area += ((valueAt(curve, xs[i - 1]) + valueAt(curve, xs[i])) / 2) * (xs[i] - xs[i - 1]);
  return area;
}

/** Smallest x where the curve reaches y, or null when it never does. */
function firstReach(curve: readonly XY[], y: number): number | null {
  if (curve[0].y >= y) return curve[0].x;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1];
    const b = curve[i];
    if (b.y >= y) return a.x + ((y - a.y) * (b.x - a.x)) / (b.y - a.y);
  }
  return null;
}

/** PGR against strong-call fraction, anchors included, as the hull the dial (plus mixing) can reach. */
export function pgrCurve(points: readonly CurvePoint[], a: Anchors): XY[] {
  const xy = points.map((p) => ({ x: p.strongFraction, y: pgr(p.quality, a) }));
  xy.push({ x: 0, y: 0 }, { x: 1, y: 1 });
  return nonDecreasingHull(xy);
}

/** APGR: mean PGR over strong-call fractions 0..1 (0.5 for random mixing). */
export function apgr(points: readonly CurvePoint[], a: Anchors): number {
  return areaBetween(pgrCurve(points, a), 0, 1);
}

/** CPT(x): the strong-call fraction needed to recover share x of the weak→strong gap (null: never). */
export function cpt(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  return firstReach(pgrCurve(points, a), share);
}

/** Quality against cost, anchors included, as its non-decreasing convex hull. */
export function costCurve(points: readonly CurvePoint[], a: Anchors): XY[] {
  const xy = points.map((p) => ({ x: p.cost, y: p.quality }));
  xy.push({ x: a.weakCost, y: a.weakQuality }, { x: a.strongCost, y: a.strongQuality });
  return nonDecreasingHull(xy);
}

/** AIQ: area under the hull between the weak and strong models' costs, divided by that cost range. */
export function aiq(points: readonly CurvePoint[], a: Anchors): number {
  const lo = Math.min(a.weakCost, a.strongCost);
  const hi = Math.max(a.weakCost, a.strongCost);
  const hull = costCurve(points, a);
  return hi === lo ? valueAt(hull, hi) : areaBetween(hull, lo, hi) / (hi - lo);
}

/** Cheapest cost on the hull reaching `share` of the strong model's quality (null: never). */
export function costAtQuality(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  return firstReach(costCurve(points, a), share * a.strongQuality);
}

/** 1 − cost / strong model's cost, at `share` of the strong model's quality (null: never reached). */
export function savingAt(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  const c = costAtQuality(points, a, share);
  return c === null || a.strongCost === 0 ? null : 1 - c / a.strongCost;
}

export interface CurveSummary {
  apgr: number;
  cpt50: number | null;
  cpt80: number | null;
  aiq: number;
  saving95: number | null;
  saving98: number | null;
}

export function summarise(points: readonly CurvePoint[], a: Anchors): CurveSummary {
  return {
    apgr: apgr(points, a),
    cpt50: cpt(points, a, 0.5),
    cpt80: cpt(points, a, 0.8),
    aiq: aiq(points, a),
    saving95: savingAt(points, a, 0.95),
    saving98: savingAt(points, a, 0.98),
  };
}
