import { latencySummary, RecentSamples } from "../common/stats.js";
import type { BreakerState } from "../common/breaker.js";

export type FallbackFailureKind =
  | "timeout"
  | "connection"
  | "rate_limit" // HTTP 429
  | "server_error" // HTTP 5xx
  | "http_error" // other HTTP statuses (400, 401, 404...)
  | "invalid_response" // a body that is not a chat completion
  | "invalid_label" // an answer that is not exactly one allowed label
  | "circuit_open"
  | "bad_request"; // the caller's input (e.g. no labels)

export interface FallbackStats {
  calls: number;
  /** Calls that returned an allowed label. */
  answered: number;
  failures: Record<FallbackFailureKind, number>;
  /** Among answered calls given a localLabel: how often the LLM agreed with the local top-1. */
  agreement: { compared: number; agreed: number; rate: number | null };
  /** Over the last LATENCY_WINDOW calls that went out (circuit-open calls excluded). */
  latencyMs: { p50: number | null; p95: number | null };
  tokens: { prompt: number; completion: number };
  /** null when no price is configured. */
  costUsd: number | null;
  breaker: BreakerState;
}

const LATENCY_WINDOW = 4096;

export class FallbackStatsCollector {
  private calls = 0;
  private answered = 0;
  private readonly failures: Record<FallbackFailureKind, number> = {
    timeout: 0,
    connection: 0,
    rate_limit: 0,
    server_error: 0,
    http_error: 0,
    invalid_response: 0,
    invalid_label: 0,
    circuit_open: 0,
    bad_request: 0,
  };
  private compared = 0;
  private agreed = 0;
  private readonly latencies = new RecentSamples(LATENCY_WINDOW);
  private promptTokens = 0;
  private completionTokens = 0;
  private cost = 0;

  constructor(private readonly priced: boolean) {}

  record(outcome: {
    label: string | null;
    failure?: FallbackFailureKind;
    latencyMs: number;
    localLabel?: string;
    usage?: { promptTokens: number; completionTokens: number };
    costUsd?: number;
  }): void {
    this.calls++;
    if (outcome.failure) this.failures[outcome.failure]++;
    if (outcome.label !== null) {
      this.answered++;
      if (outcome.localLabel !== undefined) {
        this.compared++;
        if (outcome.localLabel === outcome.label) this.agreed++;
      }
    }
    if (outcome.failure !== "circuit_open" && outcome.failure !== "bad_request") this.latencies.add(outcome.latencyMs);
    if (outcome.usage) {
      this.promptTokens += outcome.usage.promptTokens;
      this.completionTokens += outcome.usage.completionTokens;
    }
    if (outcome.costUsd !== undefined) this.cost += outcome.costUsd;
  }

  snapshot(breaker: BreakerState): FallbackStats {
    return {
      calls: this.calls,
      answered: this.answered,
      failures: { ...this.failures },
      agreement: { compared: this.compared, agreed: this.agreed, rate: this.compared ? this.agreed / this.compared : null },
      latencyMs: latencySummary(this.latencies.values()),
      tokens: { prompt: this.promptTokens, completion: this.completionTokens },
      costUsd: this.priced ? this.cost : null,
      breaker,
    };
  }
}
