/**
 * @module Retention while a log is being written (`serve`): the config's age and row-count rules applied
 * with the log's prune() once at start and then on an unref'd timer. A big surplus is deleted in short
 * steps, one event-loop turn apart, so requests keep being answered while it goes.
 */
import { retentionToPrune, type DecisionLogConfig } from "./config.js";
import type { DecisionStore } from "./store.js";
import { parseDurationMs } from "./time.js";

/** Decisions deleted per step: one step holds the event loop for a few milliseconds. */
const STEP_ROWS = 2000;

export interface RetentionTimer {
  /** Decisions deleted so far. */
  readonly deleted: number;
  stop(): void;
}

/** Starts applying `retention` to `log`; undefined when it sets no rule. Failures go to onError and are retried next time. */
export function startRetention(log: DecisionStore, retention: DecisionLogConfig["retention"], onError: (error: Error) => void): RetentionTimer | undefined {
  const rules = retentionToPrune(retention);
  if (!rules || !retention) return undefined;
  const everyMs = Math.max(1, parseDurationMs(retention.every, "retention.every"));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let step: NodeJS.Immediate | undefined;
  const state = { deleted: 0 };

  /** A PostgreSQL step is under way (a SQLite step ends before prune returns). */
  let running = false;
  const after = (deleted: number) => {
    state.deleted += deleted;
    // A full step means there may be more: continue on the next turn, else wait for the timer.
    if (deleted === STEP_ROWS && !stopped) step = setImmediate(pass).unref();
  };
  const pass = () => {
    step = undefined;
    if (stopped) return;
    try {
      const deleted = log.prune({ ...rules, limit: STEP_ROWS });
      if (typeof deleted === "number") return after(deleted);
      running = true;
      deleted.then(after, onError).finally(() => (running = false));
    } catch (err) {
      onError(err as Error);
    }
  };
  const tick = () => {
    if (!step && !running) pass();
  };

  pass();
  timer = setInterval(tick, everyMs).unref();
  return {
    get deleted() {
      return state.deleted;
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (step) clearImmediate(step);
      timer = undefined;
      step = undefined;
    },
  };
}
