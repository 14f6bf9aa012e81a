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

/**
 * How many examples the weighting a·knn + b·centroid + c·head puts on their target. Same arithmetic
 * and tie-breaking as combine() then decide() (first label with the highest score wins); a part with
 * weight zero adds exactly nothing, so it is left out of the loop.
 */
export function countCorrect(
  knn: Float64Array,
  centroid: Float64Array,
  head: Float64Array,
  weights: { knn: number; centroid: number; head: number },
  targets: Int32Array,
  labels: number,
): number {
  const { knn: a, centroid: b, head: c } = weights;
  const n = targets.length;
  let ok = 0;
  for (let i = 0, off = 0; i < n; i++, off += labels) {
    let best = 0;
    let top = -Infinity;
    if (a !== 0 && b !== 0 && c !== 0) {
      for (let l = 0; l < labels; l++) {
        const s = a * knn[off + l] + b * centroid[off + l] + c * head[off + l];
        if (s > top) {
          top = s;
          best = l;
        }
      }
    } else {
      for (let l = 0; l < labels; l++) {
        let s = 0;
        if (a !== 0) s += a * knn[off + l];
        if (b !== 0) s += b * centroid[off + l];
        if (c !== 0) s += c * head[off + l];
        if (s > top) {
          top = s;
          best = l;
        }
      }
    }
    if (best === targets[i]) ok++;
  }
  return ok;
}
