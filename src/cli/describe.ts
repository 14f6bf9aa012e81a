/**
 * @module A trained model in plain words, for `triage train`'s summary and `triage info`: what each
 * figure means is said next to it, and the internal names (knn, centroid, head) become what they are.
 */
import type { Manifest } from "../model/artifact.js";
import type { StaticStageManifest } from "../model/artifact.js";
import type { Combination } from "../model/scoring.js";
import { pct } from "./output.js";

/** The three parts' weights as a sentence: "90% classifier, 10% closest label average". */
export function combinationInWords(c: Combination): string {
  const parts = [
    { name: `vote of the ${c.k} most similar examples`, w: c.knn },
    { name: "similarity to each label's average example", w: c.centroid },
    { name: "classifier trained on the examples", w: c.head },
  ]
    .filter((p) => p.w > 0)
    .sort((a, b) => b.w - a.w);
  if (parts.length === 1) return `${parts[0].name} alone`;
  return parts.map((p) => `${Math.round(p.w * 100)}% ${p.name}`).join(", ");
}

/** Cross-validated accuracy, with each part's own accuracy for comparison. */
export function accuracyInWords(m: Manifest): string {
  const cv = m.metrics.cv;
  return (
    `${pct(cv.accuracy)} on examples held out in ${m.params.folds}-fold cross-validation ` +
    `(the parts alone: similar examples ${pct(cv.parts.knn.accuracy)}, label averages ${pct(cv.parts.centroid.accuracy)}, classifier ${pct(cv.parts.head.accuracy)})`
  );
}

/** How many decisions are confident, how right they are, and what happens to the rest. */
export function confidenceInWords(m: Manifest): string {
  const c = m.calibration;
  const policy = m.config.policy.lowConfidence;
  const rest =
    policy === "escalate"
      ? "go to the costlier of the top two labels"
      : policy === "abstain"
        ? `go to the default route${m.config.policy.abstainLabel ? ` ${m.config.policy.abstainLabel}` : ""}`
        : "are asked of the LLM fallback";
  if (!c.reached) return `none: no confidence cut reached the target accuracy ${pct(c.targetAccuracy)}, so every query takes the low-confidence policy (${policy})`;
  return `${pct(c.coverage)} of queries, ${pct(c.acceptedAccuracy)} of them right (target ${pct(c.targetAccuracy)}); the others ${rest} (low-confidence policy: ${policy})`;
}

/** The fast path in one line: what share it decides and what that costs in accuracy. */
/** The blend of the fast path's scores into the full encoder's decisions (train/blend.ts), when training chose one. */
export function blendInWords(blend: NonNullable<StaticStageManifest["blend"]>, calibratedOn: StaticStageManifest["calibratedOn"]): string {
  return `the full encoder's decisions weigh in the fast path's scores at ${pct(blend.weight)} (${calibratedOn === "folds" ? "out of fold" : "on held-out examples"}: ${pct(blend.accuracy)} right, ${pct(blend.fullAccuracy)} without)`;
}

export function fastPathInWords(s: StaticStageManifest): string {
  const lost = s.coverageLoss ? `; ${pct(s.coverageLoss)} of confident decisions become low-confidence` : "";
  const over = s.withinTolerance === false ? "; no setting stays within --fast-path-tolerance, this is the most accurate one" : "";
  return `a small ${s.encoder.dimensions}-d encoder decides ${pct(s.coverage)} of queries on its own (${s.calibratedOn === "folds" ? "out of fold" : "on held-out examples"}: ${pct(s.cascadeAccuracy)} right with it, ${pct(s.fullAccuracy)} without${lost}${over})`;
}
