/**
 * Cost–quality metrics of the routing literature, on curves of operating points.
 *  - RouteLLM (Ong et al. 2024): PGR, APGR, CPT(x) over the strong-call fraction.
 *  - RouterBench (Hu et al. 2024): AIQ, area under the non-decreasing convex hull of quality vs cost.
 * Every router may also run at its dial's two extremes (all weak, all strong), so both anchors join every curve.
 * APGR, CPT and the savings are stated on the router's own curve (as RouteLLM publishes them), and again
 * on the hull (what mixing its settings with random routing reaches); AIQ is RouterBench's, on the hull.
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

/** The anchors of two single-model points: always the weak model, always the strong one. */
export function anchorsBetween(weak: CurvePoint, strong: CurvePoint): Anchors {
  return { weakQuality: weak.quality, weakCost: weak.cost, strongQuality: strong.quality, strongCost: strong.cost };
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

/**
 * The router's own PGR curve over strong-call fraction, as RouteLLM draws it: its points in order of
 * strong calls, joined by straight lines, with the dial's two extremes (all weak at (0, 0), all strong
 * at (1, 1)) at the ends. Points that share a strong-call fraction (with more than two models, settings
 * that differ only in the cheaper models) count once, at the best PGR among them. Nothing is mixed and
 * no point is dropped for being dominated, so a router worse than random stays below the diagonal.
 * Empty when the two anchors score the same (PGR is then undefined).
 */
export function rawPgrCurve(points: readonly CurvePoint[], a: Anchors): XY[] {
  if (a.strongQuality === a.weakQuality) return [];
  const xy = [{ x: 0, y: 0 }, ...points.map((p) => ({ x: p.strongFraction, y: pgr(p.quality, a) })), { x: 1, y: 1 }].sort((p, q) => p.x - q.x);
  const out: XY[] = [];
  for (const p of xy) {
    const last = out[out.length - 1];
    if (last && last.x === p.x) last.y = Math.max(last.y, p.y);
    else out.push({ ...p });
  }
  return out;
}

/** PGR against strong-call fraction as the hull the dial plus random mixing can reach (never below the diagonal). */
export function pgrHull(points: readonly CurvePoint[], a: Anchors): XY[] {
  if (a.strongQuality === a.weakQuality) return [];
  const xy = points.map((p) => ({ x: p.strongFraction, y: pgr(p.quality, a) }));
  xy.push({ x: 0, y: 0 }, { x: 1, y: 1 });
  return nonDecreasingHull(xy);
}

/** APGR (RouteLLM): mean PGR over strong-call fractions 0..1 on the router's own curve; 0.5 for random mixing, below it for a worse router. Null when the anchors tie. */
export function apgr(points: readonly CurvePoint[], a: Anchors): number | null {
  const curve = rawPgrCurve(points, a);
  return curve.length === 0 ? null : areaBetween(curve, 0, 1);
}

/** APGR on the hull: what the dial mixed per request with random routing reaches (never below 0.5). */
export function apgrHull(points: readonly CurvePoint[], a: Anchors): number | null {
  const curve = pgrHull(points, a);
  return curve.length === 0 ? null : areaBetween(curve, 0, 1);
}

/** CPT(x) (RouteLLM): the strong-call fraction where the router's own curve first recovers share x of the weak→strong gap (null: never, or the anchors tie). */
export function cpt(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  const curve = rawPgrCurve(points, a);
  return curve.length === 0 ? null : firstReach(curve, share);
}

/** CPT(x) on the hull (reachable by mixing with random). */
export function cptHull(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  const curve = pgrHull(points, a);
  return curve.length === 0 ? null : firstReach(curve, share);
}

/** Quality against cost, anchors included, as its non-decreasing convex hull. */
export function costCurve(points: readonly CurvePoint[], a: Anchors): XY[] {
  const xy = points.map((p) => ({ x: p.cost, y: p.quality }));
  xy.push({ x: a.weakCost, y: a.weakQuality }, { x: a.strongCost, y: a.strongQuality });
  return nonDecreasingHull(xy);
}

/** AIQ (RouterBench): area under the hull between the weak and strong models' costs, divided by that cost range. */
export function aiq(points: readonly CurvePoint[], a: Anchors): number {
  const lo = Math.min(a.weakCost, a.strongCost);
  const hi = Math.max(a.weakCost, a.strongCost);
  const hull = costCurve(points, a);
  return hi === lo ? valueAt(hull, hi) : areaBetween(hull, lo, hi) / (hi - lo);
}

/**
 * AIQ without mixing: the area under the staircase of the best quality a real setting (or either
 * extreme) reaches within each budget, between the weak and strong models' costs, over that range.
 * A curve of few far-apart settings scores as low as it serves; the hull's AIQ would bridge the gaps.
 */
export function aiqStaircase(points: readonly CurvePoint[], a: Anchors): number {
  const lo = Math.min(a.weakCost, a.strongCost);
  const hi = Math.max(a.weakCost, a.strongCost);
  const xy = [...points.map((p) => ({ x: p.cost, y: p.quality })), { x: a.weakCost, y: a.weakQuality }, { x: a.strongCost, y: a.strongQuality }].sort((p, q) => p.x - q.x);
  let best = -Infinity;
  let area = 0;
  let atX = lo;
  for (const p of xy) {
    if (p.x > atX && best > -Infinity) {
      const to = Math.min(p.x, hi);
      if (to > atX) area += best * (to - atX);
      atX = Math.max(atX, to);
    }
    best = Math.max(best, p.y);
    if (atX >= hi) break;
  }
  if (atX < hi) area += best * (hi - atX);
  return hi === lo ? best : area / (hi - lo);
}

/**
 * Cost of the cheapest setting of the dial (its points, or either extreme: all weak, all strong)
 * reaching `share` of the strong model's quality. A real setting, not a mix of two.
 */
export function costAtQuality(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  const target = share * a.strongQuality;
  let best: number | null = null;
  for (const p of [...points, { quality: a.weakQuality, cost: a.weakCost }, { quality: a.strongQuality, cost: a.strongCost }])
    if (p.quality >= target && (best === null || p.cost < best)) best = p.cost;
  return best;
}

/** Cheapest cost on the hull reaching `share` of the strong model's quality (null: never): needs mixing two settings per request. */
export function costAtQualityHull(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  return firstReach(costCurve(points, a), share * a.strongQuality);
}

const savingOf = (cost: number | null, a: Anchors) => (cost === null || a.strongCost === 0 ? null : 1 - cost / a.strongCost);

/** 1 − cost / strong model's cost at the cheapest dial setting reaching `share` of the strong model's quality (null: never reached). */
export function savingAt(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  return savingOf(costAtQuality(points, a, share), a);
}

/** The same on the hull (reachable by mixing two settings per request). */
export function savingAtHull(points: readonly CurvePoint[], a: Anchors, share: number): number | null {
  return savingOf(costAtQualityHull(points, a, share), a);
}

/**
 * What random mixing of the weak and strong models saves at `share` of the strong quality: send a
 * fraction p of requests to the strong model, p the least that reaches the target (0 when the weak
 * model already does). Never below 0: when mixing costs more than the strong model, nobody mixes.
 */
export function randomSaving(a: Anchors, share: number): number | null {
  if (a.strongCost === 0) return null;
  const target = share * a.strongQuality;
  const gap = a.strongQuality - a.weakQuality;
  const p = a.weakQuality >= target ? 0 : gap <= 0 ? 1 : Math.min(1, (target - a.weakQuality) / gap);
  return Math.max(0, 1 - (a.weakCost + p * (a.strongCost - a.weakCost)) / a.strongCost);
}

/** Figures on the hull: reachable by mixing the router's settings with each other and with random routing. */
export interface HullSummary {
  apgr: number | null;
  cpt50: number | null;
  cpt80: number | null;
  saving95: number | null;
  saving98: number | null;
}

export interface CurveSummary {
  /** APGR on the router's own curve (RouteLLM's definition; below 0.5 = worse than random). */
  apgr: number | null;
  cpt50: number | null;
  cpt80: number | null;
  /** RouterBench's AIQ (defined on the hull). */
  aiq: number;
  /** Saving at the cheapest real dial setting reaching 95% of the strong model's quality, gross. */
  saving95: number | null;
  /** saving95 minus what random weak/strong mixing already saves at 95%. */
  saving95Net: number | null;
  saving98: number | null;
  /** The same figures on the hull: "reachable by mixing with random", never worse than random. */
  hull: HullSummary;
}

export function summarise(points: readonly CurvePoint[], a: Anchors): CurveSummary {
  const saving95 = savingAt(points, a, 0.95);
  const random95 = randomSaving(a, 0.95);
  return {
    apgr: apgr(points, a),
    cpt50: cpt(points, a, 0.5),
    cpt80: cpt(points, a, 0.8),
    aiq: aiq(points, a),
    saving95,
    saving95Net: saving95 === null || random95 === null ? null : saving95 - random95,
    saving98: savingAt(points, a, 0.98),
    hull: {
      apgr: apgrHull(points, a),
      cpt50: cptHull(points, a, 0.5),
      cpt80: cptHull(points, a, 0.8),
      saving95: savingAtHull(points, a, 0.95),
      saving98: savingAtHull(points, a, 0.98),
    },
  };
}
