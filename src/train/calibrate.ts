/** Margin threshold calibration: the accuracy-vs-coverage curve and the cut that meets a target accuracy. */

export interface CurvePoint {
  threshold: number;
  coverage: number;
  accuracy: number;
}

export interface Calibration {
  targetAccuracy: number;
  /** Decisions with margin >= threshold are accepted; below it the low-confidence policy applies. */
  threshold: number;
  /** Share of held-out decisions accepted at the threshold, and their accuracy. */
  coverage: number;
  acceptedAccuracy: number;
  /** Whether any threshold reached the target (if not, the threshold accepts nothing). */
  reached: boolean;
  curve: CurvePoint[];
  /** Share of in-scope held-out queries flagged as novel (too far from every example). */
  noveltyRate?: number;
  /** Nearest-neighbour similarity below which a query is low-confidence whatever its margin. */
  minSimilarity?: number;
}

/** The runtime's rule: confident when the margin clears the threshold and the query is not novel. */
export function isConfident(c: Pick<Calibration, "threshold" | "minSimilarity">, margin: number, nearest: number): boolean {
  return margin >= c.threshold && nearest >= (c.minSimilarity ?? -1);
}

export function calibrateMargin(margins: readonly number[], correct: readonly boolean[], targetAccuracy: number): Calibration {
  const order = margins.map((_, i) => i).sort((a, b) => margins[b] - margins[a]);
  const n = order.length;
  let hits = 0;
  let bestCount = 0;
  let bestHits = 0;
  const curve: CurvePoint[] = [];
  const step = Math.max(1, Math.floor(n / 50));
  for (let i = 0; i < n; i++) {
    if (correct[order[i]]) hits++;
    const count = i + 1;
    // Only cut between distinct margins, so the threshold means what it says.
    const boundary = count === n || margins[order[i + 1]] < margins[order[i]];
    if (boundary && hits / count >= targetAccuracy) {
      bestCount = count;
      bestHits = hits;
    }
    if (count % step === 0 || count === n) curve.push({ threshold: margins[order[i]], coverage: count / n, accuracy: hits / count });
  }
  if (bestCount === 0) {
    // Margins never exceed 1, so this threshold accepts nothing (JSON has no Infinity).
    return { targetAccuracy, threshold: 2, coverage: 0, acceptedAccuracy: 0, reached: false, curve };
  }
  return {
    targetAccuracy,
    threshold: margins[order[bestCount - 1]],
    coverage: bestCount / n,
    acceptedAccuracy: bestHits / bestCount,
    reached: true,
    curve,
  };
}
