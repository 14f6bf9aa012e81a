// CircuitBreaker on a clock the test moves: its own transitions are announced once each, and so are its own
// failures while closed and its own successes that clear a count above 0; trip(), reset(), countFailure()
// and clearFailures() (news from another process) change it without announcing, so relayed news never loops.
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/common/breaker.js";

function breaker(failureThreshold: number, cooldownMs: number) {
  const clock = { t: 1_000 };
  const all: string[] = [];
  /** Openings and closings only (see `all` for every announcement). */
  const changes: string[] = [];
  const b = new CircuitBreaker(
    failureThreshold,
    cooldownMs,
    () => clock.t,
    (state) => {
      all.push(state);
      if (state === "open" || state === "closed") changes.push(state);
    },
  );
  return { b, clock, changes, all };
}

/** One call through the breaker, if it lets one out. */
function call(b: CircuitBreaker, ok: boolean): boolean {
  if (!b.tryAcquire()) return false;
  if (ok) b.onSuccess();
  else b.onFailure();
  return true;
}

describe("CircuitBreaker", () => {
  it("announces its own opening and closing once each, not the calls that change nothing", () => {
    const { b, clock, changes } = breaker(3, 1_000);
    call(b, true);
    call(b, false);
    call(b, false);
    expect(changes).toEqual([]);
    // A call that went out while it was closed and fails after it opened extends the pause: no news.
    expect(b.tryAcquire()).toBe(true);
    call(b, false);
    expect(b.state).toBe("open");
    b.onFailure();
    expect(changes).toEqual(["open"]);
    expect(call(b, true)).toBe(false);

    clock.t += 1_000;
    expect(b.state).toBe("half-open");
    call(b, false); // the trial fails: half-open -> open is news again
    expect(changes).toEqual(["open", "open"]);
    clock.t += 1_000;
    call(b, true); // the trial succeeds
    expect(b.state).toBe("closed");
    call(b, true);
    expect(changes).toEqual(["open", "open", "closed"]);
  });

  it("trip() opens it at once for a whole cooldown, without counting failures or announcing", () => {
    const { b, clock, changes } = breaker(3, 1_000);
    b.trip();
    expect(b.state).toBe("open");
    expect(b.tryAcquire()).toBe(false);
    clock.t += 999;
    expect(b.state).toBe("open");
    clock.t += 1;
    expect(b.state).toBe("half-open");
    expect(changes).toEqual([]);
    // Its own trial then decides, and that is news.
    call(b, true);
    expect(b.state).toBe("closed");
    expect(changes).toEqual(["closed"]);
  });

  it("a failure after trip() while still open is not news; a failed trial after the cooldown is", () => {
    const { b, clock, changes } = breaker(1, 1_000);
    expect(b.tryAcquire()).toBe(true); // a call out before the news came
    b.trip();
    b.onFailure();
    expect(changes).toEqual([]);
    clock.t += 1_000;
    call(b, false);
    expect(changes).toEqual(["open"]);
  });

  it("reset() closes it and forgets its failures, without announcing", () => {
    const { b, changes } = breaker(3, 1_000);
    call(b, false);
    call(b, false);
    call(b, false);
    expect(changes).toEqual(["open"]);
    b.reset();
    expect(b.state).toBe("closed");
    expect(b.tryAcquire()).toBe(true);
    b.onSuccess(); // closed already: no news
    // Counting starts again from zero.
    call(b, false);
    call(b, false);
    expect(b.state).toBe("closed");
    call(b, false);
    expect(b.state).toBe("open");
    expect(changes).toEqual(["open", "open"]);
  });

  it("a reset while its own trial is out makes that call an ordinary one", () => {
    const { b, clock, changes } = breaker(2, 1_000);
    call(b, false);
    call(b, false);
    clock.t += 1_000;
    expect(b.tryAcquire()).toBe(true); // the trial
    b.reset();
    b.onFailure(); // one failure, below the threshold: stays closed
    expect(b.state).toBe("closed");
    expect(changes).toEqual(["open"]);
  });

  it("announces its own failures while closed, and a success only when it clears a count above 0", () => {
    const { b, clock, all } = breaker(3, 1_000);
    call(b, true); // count at 0: nothing to tell (a healthy provider costs no news)
    call(b, true);
    expect(all).toEqual([]);
    call(b, false);
    call(b, false);
    call(b, true);
    call(b, true);
    expect(all).toEqual(["failed", "failed", "recovered"]);
    // The failure that reaches the threshold is told before the opening, so a counting listener opens first.
    call(b, false);
    call(b, false);
    call(b, false);
    expect(all.slice(3)).toEqual(["failed", "failed", "failed", "open"]);
    // Failures while open or of a trial are not counted news; the trial's outcome is, as an opening or closing.
    b.onFailure();
    clock.t += 1_000;
    call(b, false);
    clock.t += 1_000;
    call(b, true);
    call(b, true);
    expect(all.slice(7)).toEqual(["open", "closed"]);
  });

  it("countFailure() and clearFailures() count with the others' failures, and open at the threshold without announcing", () => {
    const { b, clock, all } = breaker(3, 1_000);
    b.countFailure();
    b.countFailure();
    b.clearFailures(); // another process's call succeeded: the failures in a row start again
    b.countFailure();
    b.countFailure();
    expect(b.state).toBe("closed");
    // Its own success now clears a count of 2 that only others' failures made: that is news.
    call(b, true);
    expect(all).toEqual(["recovered"]);
    b.countFailure();
    call(b, false); // its own failure adds to the others'
    expect(b.state).toBe("closed");
    b.countFailure(); // the third in a row across the processes
    expect(b.state).toBe("open");
    expect(b.tryAcquire()).toBe(false);
    expect(all).toEqual(["recovered", "failed"]);
    // Open: more news changes neither the state nor the cooldown.
    clock.t += 600;
    b.countFailure();
    b.clearFailures();
    expect(b.state).toBe("open");
    clock.t += 400;
    expect(b.state).toBe("half-open");
    expect(all).toEqual(["recovered", "failed"]);
  });
});
