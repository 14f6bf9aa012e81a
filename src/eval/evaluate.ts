/**
 * @module Evaluation (eval/): a trained router on labelled data (accuracy, per-label P/R/F1, tier under/over-
 * routing, coverage at the threshold, out-of-scope recall) and the benchmark (bench.ts: latency, throughput,
 * Banking77/CLINC150 runs).
 */

import type { Router } from "../router/router.js";
import type { Decision, Stage } from "../router/types.js";
import type { Example } from "../train/data.js";
import { quantiles } from "../common/stats.js";
import { classificationReport, type ClassificationReport } from "../common/classification.js";

export interface EvalReport extends ClassificationReport {
  /** Share of in-scope queries decided confidently (above the calibrated margin or by a rule). */
  coverage: number;
  /** Accuracy of those confident decisions. */
  acceptedAccuracy: number;
  /** Final labels after the low-confidence policy (what would be used), for ordered tiers. */
  routed?: { accuracy: number; underRouting: number; overRouting: number };
  /** Queries whose label the model does not know (e.g. CLINC150 "oos"): caught = flagged low-confidence. */
  outOfScope?: { n: number; recall: number };
  /** Time per decision, ms, counted from the start of its batch (per query with batchSize 1, as bench runs it). */
  latency: { p50: number; p95: number; p99: number };
  /** Share of all queries decided at each stage (rule, cache, static fast path, full encoder). */
  stages: Partial<Record<Stage, number>>;
}

/** Runs the router over labelled examples; labels unknown to the model count as out-of-scope. */
export async function evaluate(
  router: Router,
  examples: readonly Example[],
  options: { batchSize?: number; onProgress?: (done: number) => void; onDecision?: (d: Decision) => void } = {},
): Promise<EvalReport> {
  const labels = router.labels;
  const index = new Map(labels.map((l, i) => [l, i]));
  const decisions: Decision[] = [];
  const batch = options.batchSize ?? 64;
  for (let i = 0; i < examples.length; i += batch) {
    const got = await router.classifyBatch(examples.slice(i, i + batch).map((e) => e.text));
    got.forEach((d) => options.onDecision?.(d));
    decisions.push(...got);
    options.onProgress?.(Math.min(examples.length, i + batch));
  }
  const inScope = examples.map((e, i) => ({ actual: index.get(e.label), d: decisions[i] })).filter((x) => x.actual !== undefined);
  const oos = examples.map((e, i) => ({ e, d: decisions[i] })).filter((x) => !index.has(x.e.label));
  const actual = inScope.map((x) => x.actual!);
  const report = classificationReport(
    inScope.map((x) => index.get(x.d.modelLabel)!),
    actual,
    labels,
    { ordered: router.manifest.ordered },
  );
  const accepted = inScope.filter((x) => !x.d.lowConfidence);
  const routedPred = inScope.map((x) => index.get(x.d.label)!);
  const routed = router.manifest.ordered ? classificationReport(routedPred, actual, labels, { ordered: true }) : undefined;
  const latency = decisions.length
    ? quantiles(
        decisions.map((d) => d.latencyMs),
        [50, 95, 99],
      )
    : { p50: 0, p95: 0, p99: 0 };
  return {
    ...report,
    coverage: inScope.length ? accepted.length / inScope.length : 0,
    acceptedAccuracy: accepted.length ? accepted.filter((x) => x.d.label === labels[x.actual!]).length / accepted.length : 0,
    ...(routed ? { routed: { accuracy: routed.accuracy, underRouting: routed.underRouting!, overRouting: routed.overRouting! } } : {}),
    ...(oos.length ? { outOfScope: { n: oos.length, recall: oos.filter((x) => x.d.lowConfidence).length / oos.length } } : {}),
    latency,
    stages: shares(decisions.map((d) => d.stage)),
  };
}

function shares(stages: readonly Stage[]): Partial<Record<Stage, number>> {
  const out: Partial<Record<Stage, number>> = {};
  for (const s of stages) out[s] = (out[s] ?? 0) + 1 / stages.length;
  return out;
}
