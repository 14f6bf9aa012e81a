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
import { NOT_COMMITTED, type DecisionStore } from "../../store/index.js";

export class LogSink implements DecisionSink {
  private readonly uncommitted = new WeakSet<Decision>();
  /** Strict PostgreSQL logs commit asynchronously: the commit each decision's answer waits for. */
  private readonly commits = new WeakMap<Decision, Promise<void>>();
  /** Changes waiting for a request's decision, and the changed decisions as logged, by request id. */
  private readonly changes = new Map<string, (d: Decision) => Decision>();
  private readonly changed = new Map<string, Decision>();

  constructor(
    private readonly decisions: DecisionStore,
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
    const failed = (err: unknown) => {
      this.onError(err as Error);
      if ((err as TriageError).code === NOT_COMMITTED) this.uncommitted.add(decision);
    };
    try {
      const commit = this.decisions.log(decision, text, tags);
      if (commit) this.commits.set(decision, commit.catch(failed));
    } catch (err) {
      failed(err);
    }
  }

  /** True (once) when this decision's row could not be committed: strict durability then refuses its answer. Waits for a pending commit. */
  async notCommitted(decision: Decision): Promise<boolean> {
    const commit = this.commits.get(decision);
    if (commit) {
      this.commits.delete(decision);
      await commit;
    }
    return this.uncommitted.delete(decision);
  }
}
