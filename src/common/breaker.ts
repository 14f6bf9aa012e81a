/**
 * Circuit breaker over consecutive failures: closed -> open after `failureThreshold` failures in a row;
 * after `cooldownMs` one trial call is let through (half-open): success closes it, failure re-opens it.
 * Stops a dead endpoint from adding its timeout to every low-confidence request.
 */
export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private opened = false;
  private trialInFlight = false;

  constructor(
    private readonly failureThreshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (!this.opened) return "closed";
    return this.now() - this.openedAt >= this.cooldownMs ? "half-open" : "open";
  }

  /** True when a call may go out now; in half-open state only one trial call at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.consecutiveFailures = 0;
    this.opened = false;
    this.trialInFlight = false;
  }

  /** A call ended with no verdict on the endpoint (the caller left): frees a half-open trial slot, counts nothing. */
  release(): void {
    this.trialInFlight = false;
  }

  onFailure(): void {
    this.consecutiveFailures++;
    if (this.trialInFlight || this.consecutiveFailures >= this.failureThreshold) {
      this.opened = true;
      this.openedAt = this.now();
    }
    this.trialInFlight = false;
  }
}
