/** @module What `triage info` prints for an outcome model. */
import type { OutcomeManifest } from "./artifact.js";
import { OUTCOME_KIND } from "./artifact.js";
import { describeDial, dialPoint } from "./dial.js";

export function isOutcomeManifest(m: object): m is OutcomeManifest {
  return (m as { kind?: unknown }).kind === OUTCOME_KIND;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** How the estimator was cross-validated, and what its embedding head reads: "5 folds × 5 partitions; head on 128 of 512 dimensions". */
export function describeCv(m: OutcomeManifest): string {
  const o = m.outcomes;
  const folds = o.cv.repeats !== undefined && o.cv.repeats > 1 ? `${o.cv.folds} folds × ${o.cv.repeats} partitions` : `${o.cv.folds} folds`;
  if (!o.head) return folds;
  return `${folds}; head on ${o.projection ? `${o.projection.outputDims} of ${o.projection.inputDims}` : `all ${m.encoder.dimensions}`} dimensions`;
}

/** Rows of (field, value) for a manifest summary table. */
export function outcomeSummary(m: OutcomeManifest): [string, string][] {
  const o = m.outcomes;
  const at = dialPoint(o.dial.calibration, o.dial.default);
  return [
    ["version", m.version],
    ["kind", "outcome model (routes to the cheapest model predicted to answer well)"],
    ["created", m.createdAt],
    ["encoder", `${m.encoder.id} (${m.encoder.dimensions}-d, ${m.encoder.fingerprint.slice(0, 12)})`],
    ["models (cheapest first)", m.labels.map((name) => `${name} $${o.meanCost[o.models.indexOf(name)].toPrecision(3)}`).join(", ")],
    ["strongest", o.models[o.strong]],
    ["prompts", `${m.data.prompts} (data sha256 ${m.data.sha256.slice(0, 12)}); costs from ${o.costSource}`],
    [
      "estimator",
      `${o.estimator.method} ${JSON.stringify({ knn: o.estimator.knn, logistic: o.estimator.logistic, surface: o.estimator.surface, weights: o.estimator.weights, rule: o.dial.calibration.rule })}; out of fold AIQ ${pct(o.cv.aiq)}, staircase ${pct(o.cv.aiqStaircase)} (${describeCv(m)})`,
    ],
    ["default dial", `${describeDial(o.dial.default)}: out of fold ${pct(at.quality)} of the strongest's quality at ${pct(at.cost)} of its cost`],
  ];
}
