/**
 * @module The run-time confidence rule and the calibration it reads from the manifest: training
 * (train/calibrate.ts) fits the threshold, the router applies it, both through this one definition.
 */

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
