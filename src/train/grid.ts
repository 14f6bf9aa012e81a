/**
 * @module The combination grid search's inner loop: per-example part distributions flattened into
 * n × labels typed arrays, so scoring a candidate weighting is a tight loop with no allocation (on
 * Banking77 the search tries ~1,300 weightings of 10,000 examples; through combine() and decide() per
 * example it took 15 s of a training).
 */

/** Row i of the result is rows[i] (each of length `labels`). */
export function flatten(rows: readonly Float64Array[], labels: number): Float64Array {
  const out = new Float64Array(rows.length * labels);
  rows.forEach((r, i) => out.set(r, i * labels));
  return out;
}

/** Per example, the labels that can win some weighting: example i's are labels[offsets[i]..offsets[i + 1]), ascending. */
export interface Contenders {
  offsets: Int32Array;
  labels: Int32Array;
}

/** Above this relative lead in every part, a label's weighted score beats another's after rounding too. */
const STRICT_LEAD = 1e-9;
/** Part values from here on stay normal numbers when weighted (weights are at least 0.1). */
const TINY = 1e-280;

/**
 * The labels of each example that some non-negative weighting can make the first highest score: the
 * others are dominated in all three parts by the top label of one part (checked against those three,
 * so a few dominated labels may remain). A label is dropped only when it can never win after
 * rounding: its dominator has the same or a higher value in every part and comes first (ties go to
 * the first label), or leads it in every part by more than rounding can undo. One pass over the
 * labels here spares the ~60 weightings tried with these distributions a pass each.
 */
export function contenders(knn: Float64Array, centroid: Float64Array, head: Float64Array, n: number, labels: number): Contenders {
  const offsets = new Int32Array(n + 1);
  const out: number[] = [];
  const parts = [knn, centroid, head];
  const leaders = new Int32Array(3);
  for (let i = 0, off = 0; i < n; i++, off += labels) {
    parts.forEach((p, q) => {
      let best = 0;
      for (let l = 1; l < labels; l++) if (p[off + l] > p[off + best]) best = l;
      leaders[q] = best;
    });
    for (let l = 0; l < labels; l++) {
      let beaten = false;
      for (let q = 0; q < 3 && !beaten; q++) {
        const m = leaders[q];
        if (m !== l) beaten = dominates(parts, off + m, off + l, m < l);
      }
      if (!beaten) out.push(l);
    }
    offsets[i + 1] = out.length;
  }
  return { offsets, labels: Int32Array.from(out) };
}

/** Whether entry m's score is at least entry l's (first: m comes first) or above it (otherwise) under every non-negative weighting. */
function dominates(parts: readonly Float64Array[], m: number, l: number, first: boolean): boolean {
  for (const p of parts) {
    const a = p[m];
    const b = p[l];
    if (!(b >= 0) || (first ? !(a >= b) : !(a > b * (1 + STRICT_LEAD) && a > TINY))) return false;
  }
  return true;
}

/**
 * How many examples the weighting a·knn + b·centroid + c·head puts on their target. Same arithmetic
 * and tie-breaking as combine() then decide() (first label with the highest score wins); a part with
 * weight zero adds exactly nothing, so it is left out of the loop. With `only`, each example's
 * scores are computed for its contenders alone (the others cannot win).
 */
export function countCorrect(
  knn: Float64Array,
  centroid: Float64Array,
  head: Float64Array,
  weights: { knn: number; centroid: number; head: number },
  targets: Int32Array,
  labels: number,
  only?: Contenders,
): number {
  const { knn: a, centroid: b, head: c } = weights;
  const n = targets.length;
  const all = a !== 0 && b !== 0 && c !== 0;
  let ok = 0;
  for (let i = 0, off = 0; i < n; i++, off += labels) {
    let best = only ? only.labels[only.offsets[i]] : 0;
    let top = -Infinity;
    const end = only ? only.offsets[i + 1] : labels;
    for (let r = only ? only.offsets[i] : 0; r < end; r++) {
      const l = only ? only.labels[r] : r;
      let s: number;
      if (all) s = a * knn[off + l] + b * centroid[off + l] + c * head[off + l];
      else {
        s = 0;
        if (a !== 0) s += a * knn[off + l];
        if (b !== 0) s += b * centroid[off + l];
        if (c !== 0) s += c * head[off + l];
      }
      if (s > top) {
        top = s;
        best = l;
      }
    }
    if (best === targets[i]) ok++;
  }
  return ok;
}

/**
 * Each example's decision under one combination: what combine() then decide() give (same arithmetic,
 * same tie-breaking), from the flat arrays in one pass per example without allocating. The shortlisted
 * combinations (about 200 on CLINC150) each need all of them for their margin calibration.
 */
export function decideEach(
  knn: Float64Array,
  centroid: Float64Array,
  head: Float64Array,
  weights: { knn: number; centroid: number; head: number },
  n: number,
  labels: number,
): { predicted: Int32Array; margins: Float64Array } {
  const { knn: a, centroid: b, head: c } = weights;
  const predicted = new Int32Array(n);
  const margins = new Float64Array(n);
  for (let i = 0, off = 0; i < n; i++, off += labels) {
    let best = 0;
    let top = a * knn[off] + b * centroid[off] + c * head[off];
    let second = -1;
    let runnerUp = 0;
    for (let l = 1; l < labels; l++) {
      const s = a * knn[off + l] + b * centroid[off + l] + c * head[off + l];
      if (s > top) {
        second = best;
        runnerUp = top;
        best = l;
        top = s;
      } else if (second < 0 || s > runnerUp) {
        second = l;
        runnerUp = s;
      }
    }
    predicted[i] = best;
    margins[i] = top - runnerUp;
  }
  return { predicted, margins };
}
