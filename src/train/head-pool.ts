import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { TriageError } from "../common/errors.js";
import { SoftmaxHead, type HeadInput, type HeadParams } from "../model/head.js";
import { fitSoftmaxHead } from "./head-fit.js";
import { jobBuffers, packHeadJob, type HeadJob } from "./head-job.js";

/**
 * Trains softmax heads on worker threads. Head SGD is about four fifths of training time and the
 * folds of a cross-validation are independent, so on a multi-core machine they train side by side.
 * A worker runs exactly fitSoftmaxHead, so a head comes out the same wherever it was trained.
 * TRIAGE_TRAIN_THREADS caps the workers; 1 (or a single core) trains on the calling thread.
 */
export async function trainHead(inputs: readonly HeadInput[], targets: readonly number[], labels: number, sparseDims: number, params: HeadParams): Promise<SoftmaxHead> {
  const denseDims = inputs[0]?.dense.length ?? 0;
  if (poolSize() > 1) {
    try {
      const { weights, bias } = await pool().run(packHeadJob(inputs, targets, labels, sparseDims, params));
      return new SoftmaxHead(labels, denseDims, sparseDims, params.denseScale, weights, bias);
    } catch (err) {
      warnOnce(`training heads on the calling thread: a worker failed (${(err as Error).message})`);
    }
  }
  return fitSoftmaxHead(inputs, targets, labels, sparseDims, params);
}

function poolSize(): number {
  const raw = process.env.TRIAGE_TRAIN_THREADS;
  if (raw === undefined || raw === "") return Math.min(availableParallelism(), 4);
  const requested = Number(raw);
  if (!Number.isInteger(requested) || requested < 1) throw new TriageError(`TRIAGE_TRAIN_THREADS must be a positive integer, got "${raw}"`, "E_CONFIG");
  return requested;
}

interface TrainedWeights {
  weights: Float32Array;
  bias: Float32Array;
}

interface Task {
  job: HeadJob;
  resolve: (w: TrainedWeights) => void;
  reject: (err: Error) => void;
}

class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  /** Posts the job at once when a worker is free, so it trains while the caller goes on synchronously. */
  run(job: HeadJob): Promise<TrainedWeights> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.size < this.max) {
        worker = spawnWorker();
        this.size++;
      }
      if (!worker) return;
      this.start(worker, this.queue.shift() as Task);
    }
  }

  private start(worker: Worker, task: Task): void {
    worker.ref(); // a busy worker keeps the process alive; an idle one must not
    const fail = (err: Error) => {
      worker.off("message", done).off("error", fail).off("exit", exited);
      this.size--; // a failed worker is not reused
      void worker.terminate();
      task.reject(err);
      this.pump();
    };
    const exited = (code: number) => fail(new Error(`head worker exited with code ${code}`));
    const done = (result: TrainedWeights) => {
      worker.off("error", fail).off("exit", exited);
      worker.unref();
      this.idle.push(worker);
      task.resolve(result);
      this.pump();
    };
    worker.once("message", done).once("error", fail).once("exit", exited);
    worker.postMessage(task.job, jobBuffers(task.job));
  }
}

/**
 * Compiled (the package, `bin/triage.js`): the worker is the compiled head-worker.js beside this file.
 * From source (tests and `npm run triage`, TypeScript through tsx, a devDependency) the worker registers
 * tsx's loader itself before importing the TypeScript entry: a worker does not inherit the loader, and
 * `--import tsx` in its execArgv does not cover the entry file on Node 20.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./head-worker.js", import.meta.url));
  const entry = new URL("./head-worker.ts", import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

/** tsx's ESM register API (its package exports map it for `import` only, so require.resolve cannot). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const exports = (require("tsx/package.json") as { exports: Record<string, { import?: { default?: string } }> }).exports;
  const file = exports["./esm/api"]?.import?.default;
  if (!file) throw new Error("tsx/package.json has no ESM export for ./esm/api");
  return pathToFileURL(join(dirname(manifest), file)).href;
}

let shared: WorkerPool | undefined;
const pool = () => (shared ??= new WorkerPool(poolSize()));

let warned = false;
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(message, "TriageTrain");
}
