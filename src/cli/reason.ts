/**
 * @module Why a decision came out as it did, in words: a rule, a confident model, a low margin, a query
 * unlike the training examples (novelty), the policy that then applied, the LLM fallback, a cached
 * repeat or the fast path. Used by `triage route` (the `reason` field and table column) and `triage review`.
 */
import type { DecidedBy, Stage } from "../router/types.js";
import type { Manifest } from "../model/artifact.js";
import { pickStaticCut } from "../model/static-cut.js";

/** The parts of a decision (live or logged) the explanation needs. */
export interface ExplainedDecision {
  label: string;
  modelLabel: string;
  decidedBy: DecidedBy;
  stage: Stage;
  lowConfidence: boolean;
  margin: number;
  /** Similarity of the nearest training example, when known (a live decision's first neighbour). */
  nearest?: number;
  fallback?: { label: string | null; error?: string } | null;
}

/** The cuts a decision was measured against: the full router's and, when it has one, the fast path's. */
export interface Cuts {
  margin: number;
  minSimilarity: number;
  fast?: { margin: number; low: number; minSimilarity: number };
}

/** The cuts of a model, at the fast path's operating point picked by `fastPathTolerance` (as the Router does). */
export function cutsOf(manifest: Manifest, fastPathTolerance?: number): Cuts {
  const s = manifest.stages?.static;
  const cut = pickStaticCut(s, fastPathTolerance);
  return {
    margin: manifest.calibration.threshold,
    minSimilarity: manifest.calibration.minSimilarity ?? -1,
    ...(s && cut ? { fast: { margin: cut.threshold, low: cut.lowThreshold, minSimilarity: s.minSimilarity } } : {}),
  };
}

const num = (x: number) => x.toFixed(3);
const pctOf = (x: number) => `${Math.round(x * 100)}%`;

/** One sentence: what decided, why it was (not) confident, and what the low-confidence policy did. */
export function explain(d: ExplainedDecision, cuts?: Cuts): string {
  if (d.decidedBy === "rule") return "matched a rule in the config";
  if (!d.lowConfidence) return confident(d, cuts);
  return `${lowConfidenceCause(d, cuts)}; ${policyOutcome(d)}`;
}

function confident(d: ExplainedDecision, cuts?: Cuts): string {
  const lead = (cut: number | undefined) => `the top label leads by ${num(d.margin)}${cut !== undefined ? ` (${num(cut)} needed)` : ""}`;
  if (d.stage === "static") return `confident on the fast path: ${lead(cuts?.fast?.margin)}, so the full encoder was not needed`;
  return d.stage === "cache" ? `confident: ${lead(cuts?.margin)}; a repeated query, its embedding came from the cache` : `confident: ${lead(cuts?.margin)}`;
}

/** Novelty (nearest example too far) or a low margin; for the fast path, its own cuts. */
function lowConfidenceCause(d: ExplainedDecision, cuts?: Cuts): string {
  const fast = d.stage === "static";
  const minSimilarity = fast ? cuts?.fast?.minSimilarity : cuts?.minSimilarity;
  const marginCut = fast ? cuts?.fast?.low : cuts?.margin;
  const where = fast ? " (fast path)" : "";
  const novel = d.nearest !== undefined && minSimilarity !== undefined ? d.nearest < minSimilarity : marginCut !== undefined && d.margin >= marginCut; // a logged decision: confident margin, so novelty flagged it
  if (novel)
    return d.nearest !== undefined && minSimilarity !== undefined
      ? `novel query${where}: the most similar training example is ${pctOf(d.nearest)} alike, in-scope queries reach ${pctOf(minSimilarity)}`
      : `novel query${where}: unlike every training example`;
  if (marginCut !== undefined)
    return fast
      ? `very low margin on the fast path: the top label leads by only ${num(d.margin)}, under ${num(marginCut)}, where the full encoder is mostly unsure too`
      : `low margin: the top label leads by only ${num(d.margin)} (${num(marginCut)} needed)`;
  return `low confidence${where} (margin ${num(d.margin)})`;
}

function policyOutcome(d: ExplainedDecision): string {
  switch (d.decidedBy) {
    case "escalate":
      return d.label === d.modelLabel ? `kept ${d.label}, the costlier of the top two` : `escalated from ${d.modelLabel} to ${d.label}, the costlier of the top two`;
    case "abstain":
      return `took the default route ${d.label} (policy abstain)`;
    case "fallback":
      return d.label === d.modelLabel ? `the LLM fallback agreed: ${d.label}` : `the LLM fallback chose ${d.label} (the model's top label was ${d.modelLabel})`;
    case "fallback-failed":
      return `the LLM fallback failed${d.fallback?.error ? ` (${d.fallback.error})` : ""}, so ${d.label === d.modelLabel ? `kept ${d.label}` : `went to ${d.label}`} by the policy`;
    default:
      return `routed to ${d.label}`;
  }
}
