/** The configured upstream providers, each with its own circuit breaker, and the shared retry budget. */
import { CircuitBreaker, type BreakerState } from "../fallback/breaker.js";
import type { ResolvedProvider } from "./config.js";

export interface Provider extends ResolvedProvider {
  readonly circuit: CircuitBreaker;
}

/**
 * A token bucket: every request adds `ratio` tokens (up to `burst`), every retry or failover takes one.
 * Bounds the extra load failovers put on providers when many of them fail at once (retry storms).
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    private readonly ratio: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  onRequest(): void {
    this.tokens = Math.min(this.burst, this.tokens + this.ratio);
  }

  tryWithdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class ProviderPool {
  private readonly byName: Map<string, Provider>;

  constructor(
    providers: readonly ResolvedProvider[],
    readonly budget: RetryBudget,
  ) {
    this.byName = new Map(
      providers.map((p) => [p.name, { ...p, circuit: new CircuitBreaker(p.breaker.failureThreshold, p.breaker.cooldownMs) }]),
    );
  }

  get size(): number {
    return this.byName.size;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Provider | undefined {
    return this.byName.get(name);
  }

  /** Breaker states for /healthz; names and states only, never URLs with credentials or keys. */
  states(): Record<string, BreakerState> {
    return Object.fromEntries([...this.byName].map(([n, p]) => [n, p.circuit.state]));
  }

  /** Replaces any occurrence of a provider key in text that may reach a client or a log. */
  scrub(text: string): string {
    let out = text;
    for (const p of this.byName.values()) if (p.apiKey.length >= 4) out = out.split(p.apiKey).join("[redacted]");
    return out;
  }
}
