/**
 * @module Micro-batching of concurrent classifications: queries arriving while an embedding call runs are
 * embedded together in the next call (Router.classifyBatch). On a busy CPU this multiplies throughput,
 * since one batched encoder call costs far less than the same queries one by one; an idle server still
 * answers a lone query at once (no waiting window).
 */
import type { AnyRouter } from "../../outcomes/open.js";
import type { DecisionSink } from "../../router/hooks.js";
import type { Decision, Dial } from "../../router/types.js";

interface Pending {
  text: string;
  requestId: string;
  tags?: Record<string, string>;
  /** Outcome models: the request's dial; queries batch with those of the same setting. */
  dial?: Dial;
  resolve: (d: Decision) => void;
  reject: (e: unknown) => void;
}

export class ClassifyBatcher {
  private queue: Pending[] = [];
  private busy = false;

  constructor(
    private readonly router: AnyRouter,
    /** Where the decisions are logged, each with its own request id and tags. */
    private readonly sink?: DecisionSink,
    /** Outcome models: the deployment's dial for requests that set none (ClassifyOptions.defaultDial). */
    private readonly defaultDial?: Dial,
    private readonly maxBatch = 32,
  ) {}

  classify(text: string, requestId: string, tags?: Record<string, string>, dial?: Dial): Promise<Decision> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text, requestId, tags, dial, resolve, reject });
      if (!this.busy) this.run();
    });
  }

  private run(): void {
    this.busy = true;
    // Let the requests already read in this event-loop turn join the batch.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const taken = this.queue.splice(0, this.maxBatch);
    const groups = new Map<string, Pending[]>();
    for (const p of taken) {
      const key = p.dial ? JSON.stringify(p.dial) : "";
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    try {
      for (const batch of groups.values()) {
        const dial = batch[0].dial;
        const dials = { ...(dial ? { dial } : {}), ...(this.defaultDial ? { defaultDial: this.defaultDial } : {}) };
        let decisions: Decision[] | undefined;
        try {
          decisions = await this.router.classifyBatch(
            batch.map((p) => p.text),
            { requestIds: batch.map((p) => p.requestId), queryTags: batch.map((p) => p.tags), sink: this.sink, ...dials },
          );
        } catch {
          // One bad query fails the whole batch call: classify them one by one so only it fails.
        }
        if (decisions) batch.forEach((p, i) => p.resolve(decisions[i]));
        else for (const p of batch) await this.router.classify(p.text, { requestId: p.requestId, tags: p.tags, sink: this.sink, ...dials }).then(p.resolve, p.reject);
      }
    } finally {
      if (this.queue.length > 0) this.run();
      else this.busy = false;
    }
  }
}
