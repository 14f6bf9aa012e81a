/** The configured upstream providers, each with its own circuit breaker, and the shared retry budget. */
import { type BreakerChange, CircuitBreaker, type BreakerState } from "../../common/breaker.js";
import type { ResolvedProvider } from "../config.js";

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

/**
 * One worker's share of the server's retry budget burst: rounded up, so that a burst of 1 never leaves a
 * worker without retries (the server may then hold up to `workers - 1` more than `burst`).
 */
export function burstPerWorker(burst: number, workers: number): number {
  return Math.ceil(burst / Math.max(1, workers));
}

/**
 * Told what this process's own calls did to a provider's breaker (not what `apply` did): it opened or
 * closed, or while closed a failure was counted or a count above 0 was cleared by a success.
 */
export type BreakerNews = (provider: string, state: BreakerChange) => void;

export class ProviderPool {
  private readonly byName: Map<string, Provider>;

  constructor(
    providers: readonly ResolvedProvider[],
    readonly budget: RetryBudget,
    onBreakerChange?: BreakerNews,
  ) {
    this.byName = new Map(
      providers.map((p) => {
        const tell = onBreakerChange && ((state: BreakerChange) => tellSafely(onBreakerChange, p.name, state));
        return [p.name, { ...p, circuit: new CircuitBreaker(p.breaker.failureThreshold, p.breaker.cooldownMs, Date.now, tell) }];
      }),
    );
  }

  /**
   * News from elsewhere (another worker's breaker for `provider` opened or closed, or a call there failed
   * or succeeded after failures): open this one for its cooldown, close it, or count the failure or clear
   * the count here too. Not passed on again; an unknown provider is ignored.
   */
  apply(provider: string, state: BreakerChange): void {
    this.byName.get(provider)?.circuit.apply(state);
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

  /** Replaces any occurrence of a provider key in text that may reach the server log. */
  scrubKeys(text: string): string {
    let out = text;
    for (const p of this.byName.values()) if (p.apiKey.length >= 4) out = out.split(p.apiKey).join("[redacted]");
    return out;
  }

  /** For text that may reach a client: no provider key, and no upstream address (a URL, host:port or IP). */
  scrub(text: string): string {
    let out = this.scrubKeys(text);
    for (const p of this.byName.values()) {
      const url = new URL(p.baseURL);
      for (const s of [p.baseURL, url.origin, url.host]) if (s !== "") out = out.split(s).join("[upstream]");
    }
    return out.replace(ADDRESS, "[upstream]");
  }
}

/** Passing the news on is best effort: a call to a provider never fails over it. */
function tellSafely(tell: BreakerNews, provider: string, state: BreakerChange): void {
  try {
    tell(provider, state);
  } catch {
    // this process's breaker has changed all the same
  }
}

/** URLs, IPv4 and bracketed IPv6 addresses (with or without a port), and dotted or localhost host:port. */
const ADDRESS =
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b|\[[0-9a-f:.]+\](?::\d{1,5})?|\b(?:localhost|(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*):\d{1,5}\b/gi;
