import type { DecisionSink } from "./hooks.js";

/** The public shapes of a routing decision. Stable: the CLI, server and log all print these fields. */

export interface Neighbour {
  label: string;
  similarity: number;
  /** Index of the training example inside the artifact (see examples.jsonl). */
  exampleId: number;
}

/** Which part produced the final label. */
export type DecidedBy =
  | "rule" // a regex/keyword rule from the config matched
  | "model" // the combined kNN / centroid / head score, above the calibrated margin
  | "escalate" // low margin: took the costlier of the top two tiers
  | "abstain" // low margin: took the configured default route
  | "fallback" // low margin: the LLM classifier answered
  | "fallback-failed"; // low margin: the LLM classifier failed, the policy applied instead

export type LowConfidencePolicy = "escalate" | "abstain" | "fallback";

/** Which encoder stage of a cascade decided (issue: fast path). */
export type Stage = "cache" | "static" | "full" | "rule";

export interface Decision {
  requestId: string;
  label: string;
  /** Combined score of the chosen label, 0..1. */
  confidence: number;
  /** Combined score of the top label minus the runner-up. */
  margin: number;
  /** Combined score per label, in the artifact's label order. */
  scores: Record<string, number>;
  /** The model's own top-1 before any low-confidence policy. */
  modelLabel: string;
  neighbours: Neighbour[];
  decidedBy: DecidedBy;
  lowConfidence: boolean;
  stage: Stage;
  latencyMs: number;
  /** Version of the model artifact that decided. */
  modelVersion: string;
  /** Set when the LLM classifier was asked. */
  fallback?: { label: string | null; latencyMs: number; error?: string };
  /** Outcome models only: the model to call (the same as `label`). */
  model?: string;
  /** Outcome models only: what the choice rests on. */
  outcome?: OutcomeChoice;
  /** Chat requests through the proxy: the conversation, and whether its model was kept from an earlier turn. */
  conversation?: { id: string; sticky: boolean; routed: string };
}

/**
 * The cost–quality dial of an outcome model: a quality floor or a cost ceiling, both relative to always
 * calling the strongest model (`{ quality: 0.95 }`: 95% of its quality; `{ maxCost: 0.3 }`: 30% of its cost).
 */
export type Dial = { quality: number } | { maxCost: number };

/** Why an outcome model chose its model. */
export interface OutcomeChoice {
  /** Predicted score of the chosen model on this prompt (0..1 for right/wrong outcomes). */
  expectedQuality: number;
  /** Estimated cost of the call in USD: the prompt priced from the price list, else the model's mean cost per prompt in training. */
  expectedCostUsd: number;
  /** The model that came closest to being chosen instead, or null with a single model. */
  runnerUp: { model: string; expectedQuality: number; expectedCostUsd: number } | null;
  /** One sentence: why the chosen model and not the runner-up. */
  why: string;
  /** The dial setting applied, the choice rule's setting it stands for, and whether the request set it. */
  dial: Dial & { rule: "tolerance" | "lambda"; setting: number; from: "request" | "default" };
  /** Where a failed quality gate escalates: the models predicted better, nearest first. */
  escalation: string[];
}

export interface ClassifyOptions {
  requestId?: string;
  /** Caller tags logged with the decision (feature, user, tenant...). */
  tags?: Record<string, string>;
  /** Number of neighbours to return. */
  topK?: number;
  /** Also sends this decision here, after the router's own sink (a server logging its requests with a router it was given). */
  sink?: DecisionSink;
  /** Outcome models: this request's dial setting (default: the deployment's). Tier models ignore it. */
  dial?: Dial;
  /** Outcome models: the deployment's dial when the request sets none (a server's config), in place of the model's; logged as the default. */
  defaultDial?: Dial;
}

/**
 * Router.classifyBatch's options: classify's, with one request id per query (in order) instead of one for
 * all, and optionally each query's own tags (merged over the shared `tags`).
 */
export type BatchClassifyOptions = Omit<ClassifyOptions, "requestId"> & {
  requestIds?: readonly string[];
  queryTags?: readonly (Record<string, string> | undefined)[];
};
