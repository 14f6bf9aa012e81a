/**
 * Circuit breaker over consecutive failures: closed -> open after `failureThreshold` failures in a row;
 * after `cooldownMs` one trial call is let through (half-open): success closes it, failure re-opens it.
 * Stops a dead endpoint from adding its timeout to every low-confidence request. With a listener it tells
 * what its own calls did, so that other processes' breakers for the same endpoint can apply it (trip,
 * reset, countFailure, clearFailures) and count failures in a row across all of them.
 */
export type BreakerState = "closed" | "open" | "half-open";

/**
 * What a breaker's own calls did to it: opened it (closed or half-open -> open), closed it (open or
 * half-open -> closed), added a failure to its consecutive count while closed ("failed"), or cleared a
 * count above 0 with a success while closed ("recovered"). A success with the count at 0 changes nothing.
 */
export type BreakerChange = "open" | "closed" | "failed" | "recovered";
export type BreakerListener = (change: BreakerChange) => void;

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private opened = false;
  private trialInFlight = false;

  constructor(
    private readonly failureThreshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
    private readonly onChange?: BreakerListener,
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
    const wasOpened = this.opened;
    const hadFailures = this.consecutiveFailures > 0;
    this.consecutiveFailures = 0;
    this.opened = false;
    this.trialInFlight = false;
    if (wasOpened) this.onChange?.("closed");
    else if (hadFailures) this.onChange?.("recovered");
  }

  /** A call ended with no verdict on the endpoint (the caller left): frees a half-open trial slot, counts nothing. */
  release(): void {
    this.trialInFlight = false;
  }

  onFailure(): void {
    // A call that went out before the breaker opened and fails after it only extends the cooldown: no news.
    const wasOpen = this.state === "open";
    const wasClosed = !this.opened;
    this.consecutiveFailures++;
    const opens = this.trialInFlight || this.consecutiveFailures >= this.failureThreshold;
    if (opens) this.trip();
    this.trialInFlight = false;
    // Told first, so that a listener counting the same failures opens on it, before the "open".
    if (wasClosed) this.onChange?.("failed");
    if (opens && !wasOpen) this.onChange?.("open");
  }

  /** Opens now for a full cooldown (also on news from elsewhere: another process's breaker opened); not announced. */
  trip(): void {
    this.opened = true;
    this.openedAt = this.now();
  }

  /**
   * Another process's call failed while its breaker was closed: counts as a failure here, and opens at the
   * threshold like one of ours; not announced (the others counted the same failures). An open breaker
   * keeps its cooldown.
   */
  countFailure(): void {
    if (this.opened) return;
    if (++this.consecutiveFailures >= this.failureThreshold) this.trip();
  }

  /** Another process's call succeeded after failures: the failures in a row start again from 0; not announced. */
  clearFailures(): void {
    if (!this.opened) this.consecutiveFailures = 0;
  }

  /**
   * News from another process's breaker for the same endpoint: opens, closes, counts the failure or clears
   * the count here too (trip, reset, countFailure, clearFailures); not announced.
   */
  apply(change: BreakerChange): void {
    const follow: Record<BreakerChange, () => void> = {
      open: () => this.trip(),
      closed: () => this.reset(),
      failed: () => this.countFailure(),
      recovered: () => this.clearFailures(),
    };
    follow[change]();
  }

  /** Closes now, on news from elsewhere (another process's trial call succeeded); not announced. */
  reset(): void {
    this.consecutiveFailures = 0;
    this.opened = false;
    // A call of ours still out counts as an ordinary call, not as the trial that decides.
    this.trialInFlight = false;
  }
}
