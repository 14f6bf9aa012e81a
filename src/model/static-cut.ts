/**
 * @module The static fast-path stage's bands at run time: which of the operating points recorded at
 * training (train/cascade.ts) the router applies.
 */
import type { CascadeCut, StaticStageManifest } from "./artifact.js";

/** The bands the router applies. */
export type StaticCut = Pick<CascadeCut, "threshold" | "lowThreshold">;

/**
 * The static stage's bands: the recorded operating point with the largest tolerance not above `tolerance`
 * (the lowest recorded one if none is), else the cut chosen at training. Older artifacts have no low band.
 */
export function pickStaticCut(m: StaticStageManifest | undefined, tolerance?: number): StaticCut | undefined {
  if (!m) return undefined;
  if (tolerance === undefined || !m.curve?.length) return { threshold: m.threshold, lowThreshold: m.lowThreshold ?? -1 };
  let pick = m.curve[0];
  for (const point of m.curve) if (point.tolerance <= tolerance && point.tolerance >= pick.tolerance) pick = point;
  return { threshold: pick.threshold, lowThreshold: pick.lowThreshold };
}
