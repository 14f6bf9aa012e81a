/**
 * @module How the proxy's decisions reach the server's decision log: through the router's sink port, like
 * the CLI's. A row the log cannot take is reported, never thrown into the router (one row must not fail
 * a whole micro-batch of other callers' queries); under strict durability the proxy then refuses that
 * one answer (503), since no answer may leave without its committed row.
 */
import type { TriageError } from "../../common/errors.js";
import type { DecisionSink } from "../../router/hooks.js";
import type { Decision } from "../../router/types.js";
import { NOT_COMMITTED, type DecisionLog } from "../../store/index.js";

export class LogSink implements DecisionSink {
  private readonly uncommitted = new WeakSet<Decision>();

  constructor(
    private readonly decisions: DecisionLog,
    private readonly onError: (error: Error) => void,
  ) {}

  log(decision: Decision, text: string, tags?: Record<string, string>): void {
    try {
      this.decisions.log(decision, text, tags);
    } catch (err) {
      this.onError(err as Error);
      if ((err as TriageError).code === NOT_COMMITTED) this.uncommitted.add(decision);
    }
  }

  /** True (once) when this decision's row could not be committed: strict durability then refuses its answer. */
  notCommitted(decision: Decision): boolean {
    return this.uncommitted.delete(decision);
  }
}
