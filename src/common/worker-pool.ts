/**
 * @module A small pool of worker threads running one kind of job: training runs the folds of a
 * cross-validation side by side on them (train/head-pool.ts, outcomes/logistic-pool.ts). Each worker
 * answers one message per job; a failed worker is dropped and its job rejected, so the caller can fall
 * back to its own thread. Idle workers never keep the process alive.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";
import { TriageError } from "./errors.js";

/** More threads than this rarely pay for training: the heads' passes over the data become memory bound. */
const DEFAULT_MAX_THREADS = 4;

/** TRIAGE_TRAIN_THREADS, else the cores (at most 4); 1 means "train on the calling thread". */
export function trainThreads(): number {
  const raw = process.env.TRIAGE_TRAIN_THREADS;
  if (raw === undefined || raw === "") return Math.min(availableParallelism(), DEFAULT_MAX_THREADS);
  const requested = Number(raw);
  if (!Number.isInteger(requested) || requested < 1) throw new TriageError(`TRIAGE_TRAIN_THREADS must be a positive integer, got "${raw}"`, "E_CONFIG");
  return requested;
}

interface Task<Job, Result> {
  /** Builds the job when a worker takes it (see runWhenFree). */
  job: () => Job;
  resolve: (result: Result) => void;
  reject: (err: Error) => void;
}

export class WorkerPool<Job, Result> {
  private readonly idle: Worker[] = [];
  private readonly queue: Task<Job, Result>[] = [];
  private size = 0;
  private warned = false;

  /**
   * `entry` is the worker module's URL beside its caller, without extension (see spawnWorker);
   * `transfer` lists the buffers a job gives away, so it crosses by transfer instead of by copy.
   */
  constructor(
    private readonly max: number,
    private readonly entry: URL,
    private readonly transfer: (job: Job) => ArrayBuffer[],
  ) {}

  /** Posts the job at once when a worker is free, so it runs while the caller goes on synchronously. */
  run(job: Job): Promise<Result> {
    return this.runWhenFree(() => job);
  }

  /**
   * Like run, but the job is built only when a worker takes it: a caller queueing many large jobs at once
   * (every fold of several cross-validated heads) then holds at most one built job per worker, not all.
   * A `make` that throws rejects its own job.
   */
  runWhenFree(make: () => Job): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: make, resolve, reject });
      this.pump();
    });
  }

  /** The caller does `what` on its own thread after a worker failed: said once per pool, not per job. */
  warnFallback(what: string, err: Error): void {
    if (this.warned) return;
    this.warned = true;
    process.emitWarning(`${what} on the calling thread: a worker failed (${err.message})`, "TriageTrain");
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.size < this.max) {
        worker = spawnWorker(this.entry);
        this.size++;
      }
      if (!worker) return;
      this.start(worker, this.queue.shift() as Task<Job, Result>);
    }
  }

  private start(worker: Worker, task: Task<Job, Result>): void {
    let job: Job;
    try {
      job = task.job();
    } catch (err) {
      worker.unref();
      this.idle.push(worker);
      task.reject(err as Error);
      return;
    }
    worker.ref(); // a busy worker keeps the process alive; an idle one must not
    const fail = (err: Error) => {
      worker.off("message", done).off("error", fail).off("exit", exited);
      this.size--; // a failed worker is not reused
      void worker.terminate();
      task.reject(err);
      this.pump();
    };
    const exited = (code: number) => fail(new Error(`training worker exited with code ${code}`));
    const done = (result: Result) => {
      worker.off("error", fail).off("exit", exited);
      worker.unref();
      this.idle.push(worker);
      task.resolve(result);
      this.pump();
    };
    worker.once("message", done).once("error", fail).once("exit", exited);
    worker.postMessage(job, this.transfer(job));
  }
}

/**
 * A worker running `entry` (a module URL without extension, beside its caller). Compiled (the package,
 * `bin/triage.js`), that is the compiled `.js`. From source (tests and `npm run triage`, TypeScript
 * through tsx, a devDependency) the worker registers tsx's loader itself before importing the `.ts`
 * entry: a worker does not inherit the loader, and `--import tsx` in its execArgv does not cover the
 * entry file on Node 20.
 */
export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL(`${entry.href}.js`), options);
  const source = `${entry.href}.ts`;
  const code = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** tsx's ESM register API (its package exports map it for `import` only, so require.resolve cannot). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const exports = (require("tsx/package.json") as { exports: Record<string, { import?: { default?: string } }> }).exports;
  const file = exports["./esm/api"]?.import?.default;
  if (!file) throw new TriageError("tsx/package.json has no ESM export for ./esm/api");
  return pathToFileURL(join(dirname(manifest), file)).href;
}
