/** Margin threshold calibration: the accuracy-vs-coverage curve and the cut that meets a target accuracy. */
import type { Calibration, CurvePoint } from "../model/confidence.js";

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
