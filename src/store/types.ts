import type { DecidedBy, OutcomeChoice, Stage } from "../router/types.js";

/** How the query text is kept: in full (retraining needs it), as a SHA-256 only, or not at all. */
export type TextMode = "store" | "hash" | "redact";

/**
 * label: a person's route; thumbs: the answer was good or bad; escalated: a gate sent it up a tier;
 * outcome: a call's model, tokens and cost; score: how well the model that answered did, 0..1.
 */
export type FeedbackKind = "label" | "thumbs" | "escalated" | "outcome" | "score";

/** What a caller reports about a decision after the fact. */
export interface FeedbackInput {
  kind: FeedbackKind;
  /** Required for kind "label": the correct route according to a person. */
  humanLabel?: string;
  /** Required for kind "thumbs". */
  thumbs?: 1 | -1;
  /** The model that finally answered (e.g. after a quality gate escalated); for thumbs and score, the model judged. */
  finalModel?: string;
  /** Required for kind "score": how well `finalModel` answered, 0 (wrong) to 1 (right). */
  score?: number;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
  note?: string;
  /** Defaults to now (ms since epoch). */
  ts?: number;
}

export interface FeedbackRecord {
  id: number;
  ts: number;
  kind: FeedbackKind;
  humanLabel: string | null;
  thumbs: 1 | -1 | null;
  finalModel: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  note: string | null;
  /** Kind "score" (schema 4 on): the model's outcome, 0..1. */
  score: number | null;
}

/** One row of the `decisions` table, with the feedback recorded for it. */
export interface LoggedDecision {
  id: number;
  /** ms since epoch, when log() was called. */
  ts: number;
  requestId: string;
  modelVersion: string;
  /** null unless the log's text mode is "store"; at most the log's maxTextChars (UTF-16 code units) of it. */
  text: string | null;
  /** SHA-256 of the whole text (UTF-8); null in "redact" mode. */
  textHash: string | null;
  /** Length of the whole text in UTF-16 code units; null in "redact" mode and for rows logged before schema 2. */
  textLength: number | null;
  label: string;
  modelLabel: string;
  confidence: number;
  margin: number;
  scores: Record<string, number>;
  decidedBy: DecidedBy;
  stage: Stage;
  lowConfidence: boolean;
  fallbackUsed: boolean;
  fallbackLabel: string | null;
  fallbackError: string | null;
  fallbackLatencyMs: number | null;
  latencyMs: number;
  tags: Record<string, string> | null;
  /** The conversation the request belonged to (proxy chat requests); null otherwise and for rows logged before schema 3. */
  conversation: string | null;
  /** Whether the label was kept from an earlier turn of the conversation rather than routed afresh; null outside conversations. */
  sticky: boolean | null;
  /**
   * Outcome models: the dial the decision was made at (the request's, or the deployment's default), with
   * the choice rule's setting it stood for; null for tier decisions and rows logged before schema 5.
   */
  dial: LoggedDial | null;
  feedback: FeedbackRecord[];
}

/** An outcome decision's dial as logged: `Decision.outcome.dial`. */
export type LoggedDial = OutcomeChoice["dial"];

export interface DecisionFilters {
  /** ms since epoch, inclusive. */
  since?: number;
  /** ms since epoch, exclusive. */
  until?: number;
  label?: string;
  lowConfidence?: boolean;
  /** true: the LLM classifier was asked. */
  fallback?: boolean;
  hasFeedback?: boolean;
  feedbackKind?: FeedbackKind;
  requestId?: string;
  /** Request ids starting with this (for ids given by a prefix, as `triage feedback` accepts). */
  requestIdPrefix?: string;
  limit?: number;
  /** By insertion order; default "asc". */
  order?: "asc" | "desc";
}

/** USD per 1M tokens, keyed by label (tier) or by model name (matched against feedback finalModel first). */
export type { PriceTable } from "../config/price.js";

export interface LatencySummary {
  p50: number | null;
  p95: number | null;
}

export interface LogStats {
  count: number;
  labels: Record<string, { count: number; share: number; latencyMs: LatencySummary }>;
  latencyMs: LatencySummary;
  lowConfidenceRate: number | null;
  /** Share of decisions where the LLM classifier was asked. */
  fallbackRate: number | null;
  /** Among fallback calls that answered: share agreeing with the local top-1. */
  fallbackAgreement: number | null;
  fallbackFailures: number;
  /** Share of decisions with feedback kind "escalated". */
  escalationRate: number | null;
  feedback: Record<FeedbackKind, number>;
  cost: CostSummary;
}

export interface CostSummary {
  /** Requests with at least one call whose cost is known (feedback cost_usd, or tokens and a price). */
  requests: number;
  totalUsd: number;
  /** Calls with tokens but no price for their model/label and no cost_usd. */
  unpricedCalls: number;
  /** Against sending every request to the most expensive priced tier (needs a price table and tokens). */
  baseline: { label: string; requests: number; actualUsd: number; baselineUsd: number; savingsUsd: number; savingsRate: number | null } | null;
}
