/**
 * @module What `triage route` prints for a decision: JSON with its keys in reading order (the answer
 * first, the evidence after), or one row of a table a person can scan.
 */
import type { Decision } from "../router/types.js";

/** A decision as printed: the answer and why, then how it was reached, then the raw scores. */
export interface ReadableDecision {
  label: string;
  /** The model the label maps to in the tiers config; null when the config names none. */
  model: string | null;
  confidence: number;
  lowConfidence: boolean;
  /** In words: rule, confident margin, low margin, novelty, the policy, the fallback, the cache. */
  reason: string;
  text: string;
  decidedBy: Decision["decidedBy"];
  stage: Decision["stage"];
  modelLabel: string;
  margin: number;
  requestId: string;
  modelVersion: string;
  latencyMs: number;
  fallback?: Decision["fallback"];
  scores: Decision["scores"];
  neighbours: Decision["neighbours"];
}

export function readable(d: Decision, text: string, model: string | null, reason: string): ReadableDecision {
  return {
    label: d.label,
    model,
    confidence: d.confidence,
    lowConfidence: d.lowConfidence,
    reason,
    text,
    decidedBy: d.decidedBy,
    stage: d.stage,
    modelLabel: d.modelLabel,
    margin: d.margin,
    requestId: d.requestId,
    modelVersion: d.modelVersion,
    latencyMs: d.latencyMs,
    ...(d.fallback ? { fallback: d.fallback } : {}),
    scores: d.scores,
    neighbours: d.neighbours,
  };
}

/** Column widths known before the first query, so rows can be printed as they are decided. */
export interface RouteTable {
  labels: readonly string[];
  models: readonly (string | null)[];
}

const TEXT_WIDTH = 40;

function widths(t: RouteTable) {
  return {
    label: Math.max("label".length, ...t.labels.map((l) => l.length)),
    model: Math.max("model".length, ...t.models.map((m) => (m ?? "-").length)),
  };
}

export function tableHeader(t: RouteTable): string {
  const w = widths(t);
  return ["text".padEnd(TEXT_WIDTH), "label".padEnd(w.label), "model".padEnd(w.model), "confidence", "reason"].join("  ");
}

export function tableRow(t: RouteTable, d: ReadableDecision): string {
  const w = widths(t);
  const oneLine = d.text.replace(/\s+/g, " ").trim();
  const text = oneLine.length > TEXT_WIDTH ? `${oneLine.slice(0, TEXT_WIDTH - 1)}…` : oneLine;
  const confidence = `${d.confidence.toFixed(3)}${d.lowConfidence ? " low" : ""}`;
  return [text.padEnd(TEXT_WIDTH), d.label.padEnd(w.label), (d.model ?? "-").padEnd(w.model), confidence.padEnd("confidence".length), d.reason].join("  ");
}
