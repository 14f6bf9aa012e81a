/**
 * @module How the proxy's decisions reach the server's decision log: through the router's sink port, like
 * the CLI's. A row the log cannot take is reported, never thrown into the router (one row must not fail
 * a whole micro-batch of other callers' queries); under strict durability the proxy then refuses that
 * one answer (503), since no answer may leave without its committed row. The proxy may change a decision
 * before it is final (a conversation keeps its model): the row then holds the changed decision.
 */
import type { TriageError } from "../../common/errors.js";
import type { DecisionSink } from "../../router/hooks.js";
import type { Decision } from "../../router/types.js";
import { NOT_COMMITTED, type DecisionLog } from "../../store/index.js";

export class LogSink implements DecisionSink {
  private readonly uncommitted = new WeakSet<Decision>();
  /** Changes waiting for a request's decision, and the changed decisions as logged, by request id. */
  private readonly changes = new Map<string, (d: Decision) => Decision>();
  private readonly changed = new Map<string, Decision>();

  constructor(
    private readonly decisions: DecisionLog,
    private readonly onError: (error: Error) => void,
  ) {}

  /** The decision of `requestId` is to be logged as `change` makes it; `settle` then hands the changed one back. */
  change(requestId: string, change: (d: Decision) => Decision): void {
    this.changes.set(requestId, change);
  }

  /** The changed decision as logged, if it was; forgets the request either way. */
  settle(requestId: string): Decision | undefined {
    const logged = this.changed.get(requestId);
    this.changed.delete(requestId);
    this.changes.delete(requestId);
    return logged;
  }

  log(given: Decision, text: string, tags?: Record<string, string>): void {
    const change = this.changes.get(given.requestId);
    const decision = change ? change(given) : given;
    if (change) {
      this.changes.delete(given.requestId);
      this.changed.set(given.requestId, decision);
    }
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
