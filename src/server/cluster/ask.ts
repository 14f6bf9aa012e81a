/**
 * @module A worker's questions to the cluster primary: each gets an id, and the primary's answer with that
 * id settles it; one that gets no answer in time is rejected (a late answer is then ignored).
 */
import { TriageError } from "../../common/errors.js";
import type { PrimaryMessage, WorkerMessage } from "./messages.js";

/** Sends one message to the primary; `done` gets the channel's error, if any. */
export type SendToPrimary = (message: WorkerMessage, done: (err: Error | null) => void) => void;

type Pending = { resolve: (m: PrimaryMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class PrimaryAsker {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly send: SendToPrimary) {}

  ask(message: (id: number) => WorkerMessage, timeoutMs: number): Promise<PrimaryMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TriageError(`the cluster primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send(message(id), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new TriageError(`cannot reach the cluster primary: ${err.message}`));
      });
    });
  }

  /** Settles the question the answer is for; false when none waits for it (answered too late, or not an answer). */
  answer(message: PrimaryMessage): boolean {
    if (!("id" in message)) return false;
    const waiting = this.pending.get(message.id);
    if (!waiting) return false;
    clearTimeout(waiting.timer);
    this.pending.delete(message.id);
    waiting.resolve(message);
    return true;
  }
}
