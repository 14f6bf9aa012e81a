/**
 * @module How the proxy's decisions reach the server's decision log: through the router's sink port, like
 * the CLI's. A row the log cannot take is reported, never thrown into the router (one row must not fail
 * a whole micro-batch of other callers' queries); under strict durability the proxy then refuses that
 * one answer (503), since no answer may leave without its committed row.
 */
import type { TriageError } from "../../common/errors.js";
import type { DecisionSink } from "../../router/hooks.js";
import type { Decision } from "../../router/types.js";
import { NOT_COMMITTED, type DecisionStore } from "../../store/index.js";

export class LogSink implements DecisionSink {
  private readonly uncommitted = new WeakSet<Decision>();
  /** Strict PostgreSQL logs commit asynchronously: the commit each decision's answer waits for. */
  private readonly commits = new WeakMap<Decision, Promise<void>>();

  constructor(
    private readonly decisions: DecisionStore,
    private readonly onError: (error: Error) => void,
  ) {}

  log(decision: Decision, text: string, tags?: Record<string, string>): void {
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
