/**
 * @module
 * A logged decision in words, shared by the decisions table and a decision's page: what text is shown
 * (per the log's text mode), why the router decided as it did, which model answered, what it cost.
 */
import { callCostUsd, type PriceTable } from "../../config/price.js";
import type { LoggedDecision } from "../../store/index.js";
import { isOutcomeManifest, type AnyManifest } from "./model-kind.js";

/** The query as the log keeps it: the text, its hash, or nothing. */
export function shownText(d: LoggedDecision): { text: string; kind: "text" | "hash" | "none"; cut: boolean } {
  if (d.text !== null) return { text: d.text, kind: "text", cut: d.textLength !== null && d.textLength > d.text.length };
  if (d.textHash !== null) return { text: `sha256 ${d.textHash.slice(0, 16)}…${d.textLength !== null ? ` (${d.textLength} chars)` : ""}`, kind: "hash", cut: false };
  return { text: "(text not stored)", kind: "none", cut: false };
}

/**
 * Why the label: rule, confident model, or the low-confidence policy (escalate, abstain, LLM fallback),
 * and for low confidence whether the margin or novelty caused it (known when the deciding model is).
 */
export function reasonOf(d: LoggedDecision, manifest?: AnyManifest | null): string {
  if (isOutcomeManifest(manifest)) return outcomeReason(d);
  const threshold = manifest?.calibration.threshold;
  const why = !d.lowConfidence ? "" : threshold !== undefined && d.margin >= threshold && d.stage !== "static" ? "novel query" : "low margin";
  switch (d.decidedBy) {
    case "rule":
      return "a config rule matched";
    case "model":
      return "confident";
    case "escalate":
      return `${why} → escalated (costlier of the top two)`;
    case "abstain":
      return `${why} → default route`;
    case "fallback":
      return `${why} → the LLM fallback chose ${d.fallbackLabel ?? d.label}`;
    case "fallback-failed":
      return `${why} → the LLM fallback failed${d.fallbackError ? ` (${d.fallbackError.slice(0, 80)})` : ""}; policy applied`;
    default:
      return d.decidedBy;
  }
}

/** An outcome model's choice: the model predicted good enough at the dial, or the conversation's model kept. */
function outcomeReason(d: LoggedDecision): string {
  if (d.decidedBy === "rule") return "a config rule matched";
  const kept = d.sticky ? "kept from the conversation's earlier turns; " : "";
  return `${kept}predicted quality ${d.confidence.toFixed(3)} at the dial`;
}

/** The model that answered last (from the proxy's outcome rows), else the tier's configured model. */
export function answeredBy(d: LoggedDecision, manifest?: AnyManifest | null): string | null {
  const last = [...d.feedback].reverse().find((f) => f.finalModel !== null && (f.kind === "outcome" || f.kind === "escalated"));
  return last?.finalModel ?? manifest?.config.labels.find((l) => l.name === d.label)?.model ?? null;
}

/** USD of the calls recorded for the decision (null: none known), priced as `triage stats` prices them. */
export function costOf(d: LoggedDecision, prices: PriceTable): number | null {
  let total: number | null = null;
  for (const f of d.feedback) {
    if (f.costUsd === null && f.tokensIn === null && f.tokensOut === null) continue;
    const price = (f.finalModel !== null ? prices[f.finalModel] : undefined) ?? prices[d.label];
    const c = callCostUsd({ costUsd: f.costUsd ?? undefined, tokensIn: f.tokensIn ?? undefined, tokensOut: f.tokensOut ?? undefined }, price);
    if (c !== undefined) total = (total ?? 0) + c;
  }
  return total;
}
