import type { BreakerState } from "../common/breaker.js";
import type { Decision } from "./types.js";

/** The LLM classifier the router asks below the margin (src/fallback implements it). */
export interface FallbackClassifier {
  classify(request: {
    text: string;
    labels: { name: string; description?: string }[];
    examples: { text: string; label: string }[];
    localLabel?: string;
  }): Promise<{ label: string | null; latencyMs: number; error?: string }>;
  /** Its endpoint's circuit, when it keeps one (LlmClassifier does): a server's /healthz reports it. */
  readonly breakerState?: BreakerState;
}

/** Where decisions go after they are made (src/store's DecisionLog implements it); must not block. */
export interface DecisionSink {
  log(decision: Decision, text: string, tags?: Record<string, string>): void;
}
