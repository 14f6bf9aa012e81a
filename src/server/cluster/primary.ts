/**
 * @module `triage serve --workers N`'s primary process (node:cluster): forks N workers that share one port
 * (each with its own router, encoder session and decision-log connection), restarts a crashed worker with
 * backoff, gathers the workers' counters for /v1/stats and /metrics, passes admin reloads and circuit
 * breaker news on, holds the server's one memory of which model each conversation is on, and on
 * SIGTERM/SIGINT lets every worker drain and waits for all of them.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { AggregatorRegistry } from "prom-client";
import { ConversationMemory } from "../proxy/conversations.js";
import type { ServerStatsSnapshot } from "../proxy/stats.js";
import { answerConversation } from "./conversations.js";
import { mergeStats } from "./merge-stats.js";
import { breakerMessage, isWorkerMessage, type ListeningInfo, type PrimaryMessage, type WorkerMessage, SESSION_SECRET_ENV, WORKER_ID_ENV, WORKERS_ENV } from "./messages.js";

/** A worker that served this long before it died is restarted without delay growth. */
const HEALTHY_AFTER_MS = 10_000;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** How long the primary waits for each worker's counters. */
const GATHER_TIMEOUT_MS = 5_000;
/** Beyond the drain timeout: time to flush the log and exit, before a worker is killed. */
const EXIT_GRACE_MS = 15_000;

export interface PrimaryOptions {
  workers: number;
  /** The server config's drainTimeoutMs: how long a worker may drain before the primary kills it. */
  drainTimeoutMs: number;
  /** The server config's conversations memory: how long a conversation is remembered, and how many at most. */
  conversations: { ttlMs: number; maxConversations: number };
  /** Once every worker listens: the server's address (the CLI prints it as its one JSON line). */
  onListening: (info: ListeningInfo & { workers: number }) => void;
  /** One line per worker event, for the operator. */
  say: (line: string) => void;
}

interface Slot {
  id: number;
  worker?: Worker;
  ready: boolean;
  listenedAt?: number;
  failures: number;
  restart?: NodeJS.Timeout;
}

interface Gather {
  asker: Worker;
  /** The asker's request id. */
  replyTo: number;
  waiting: Set<Worker>;
  snapshots: ServerStatsSnapshot[];
  timer: NodeJS.Timeout;
}

/** Runs the primary until every worker has exited; resolves with the process exit code. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({ id: i + 1, ready: false, failures: 0 }));
  const aggregator = new AggregatorRegistry();
  // One per server, kept across worker restarts: a dashboard session opened on one worker is valid on all.
  const sessionSecret = randomBytes(32).toString("hex");
  // Kept here, not in the workers: a conversation's next turn may come to any worker (and outlives a restart).
  const conversations = new ConversationMemory(options.conversations.ttlMs, options.conversations.maxConversations);
  const gathers = new Map<number, Gather>();
  let nextGather = 0;
  let announced = false;
  let stopping = false;
  let exitCode = 0;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const send = (worker: Worker, message: PrimaryMessage) => {
    if (worker.isConnected()) worker.send(message, undefined, () => {});
  };
  const live = () => slots.filter((s) => s.worker);

  const fork = (slot: Slot) => {
    slot.restart = undefined;
    slot.ready = false;
    const worker = cluster.fork({ [WORKER_ID_ENV]: String(slot.id), [WORKERS_ENV]: String(options.workers), [SESSION_SECRET_ENV]: sessionSecret });
    slot.worker = worker;
    worker.on("message", (message: unknown) => {
      if (isWorkerMessage(message)) receive(slot, worker, message);
    });
    worker.on("exit", (code, signal) => exited(slot, worker, code, signal));
  };

  const receive = (slot: Slot, worker: Worker, message: WorkerMessage) => {
    switch (message.triage) {
      case "listening":
        slot.ready = true;
        slot.listenedAt = Date.now();
        options.say(`worker ${slot.id} (pid ${worker.process.pid}) listening`);
        // Worker 1 starts alone, so a bad model or config is reported once, not once per worker.
        if (!announced && slot.id === 1) for (const s of slots.slice(1)) fork(s);
        if (!announced && slots.every((s) => s.ready)) {
          announced = true;
          options.onListening({ ...message.info, workers: options.workers });
        }
        return;
      case "stats?": {
        const waiting = new Set(slots.filter((s) => s.ready && s.worker?.isConnected()).map((s) => s.worker as Worker));
        const id = nextGather++;
        gathers.set(id, { asker: worker, replyTo: message.id, waiting, snapshots: [], timer: setTimeout(() => answerStats(id), GATHER_TIMEOUT_MS) });
        for (const w of waiting) send(w, { triage: "snapshot?", id });
        if (waiting.size === 0) answerStats(id);
        return;
      }
      case "snapshot": {
        const gather = gathers.get(message.id);
        if (!gather?.waiting.delete(worker)) return;
        gather.snapshots.push(message.snapshot);
        if (gather.waiting.size === 0) answerStats(message.id);
        return;
      }
      case "metrics?":
        aggregator.clusterMetrics().then(
          (text) => send(worker, { triage: "metrics", id: message.id, text }),
          (err: unknown) => send(worker, { triage: "metrics", id: message.id, error: (err as Error).message }),
        );
        return;
      case "reloaded":
        for (const s of slots) if (s.worker && s.worker !== worker && s.ready) send(s.worker, { triage: "reload" });
        return;
      case "breaker": {
        // Only to workers that listen: one that starts or restarts later starts with its breakers closed, and
        // finds a provider that is still down by its own failures.
        const news = breakerMessage(message, message.state);
        for (const s of slots) if (s.worker && s.worker !== worker && s.ready) send(s.worker, news);
        return;
      }
      case "conversation?":
      case "conversation=":
        send(worker, answerConversation(conversations, message));
        return;
    }
  };

  const answerStats = (gatherId: number) => {
    const gather = gathers.get(gatherId);
    if (!gather) return;
    gathers.delete(gatherId);
    clearTimeout(gather.timer);
    const snapshot = mergeStats(gather.snapshots);
    const id = gather.replyTo;
    send(gather.asker, snapshot ? { triage: "stats", id, snapshot, workers: gather.snapshots.length } : { triage: "stats", id, error: "no worker answered" });
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.ready = false;
    // A gather waiting for this worker answers with the others.
    for (const [id, g] of gathers) if (g.waiting.delete(worker) && g.waiting.size === 0) answerStats(id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (live().length === 0) finish(exitCode);
      return;
    }
    if (!announced) {
      // Startup failed (the worker said why on stderr): stop the others and exit with its code.
      if (signal) options.say(`worker ${slot.id} exited with ${how} before listening`);
      exitCode = code || 1;
      stop();
      return;
    }
    slot.failures = slot.listenedAt !== undefined && Date.now() - slot.listenedAt >= HEALTHY_AFTER_MS ? 0 : slot.failures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, slot.failures - 1));
    options.say(`worker ${slot.id} (pid ${worker.process.pid}) exited with ${how}; restarting it in ${delay} ms`);
    slot.restart = setTimeout(() => fork(slot), delay);
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const s of slots) if (s.restart) clearTimeout(s.restart);
    const running = live();
    if (running.length === 0) return finish(exitCode);
    for (const s of running) s.worker?.process.kill("SIGTERM");
    // A worker that neither drains nor exits in time is killed; the exit code then says so.
    setTimeout(() => {
      for (const s of live()) s.worker?.process.kill("SIGKILL");
    }, options.drainTimeoutMs + EXIT_GRACE_MS).unref();
  };

  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.on(signal, () => {
      if (!stopping) options.say(`${signal}: every worker drains its in-flight requests (up to ${options.drainTimeoutMs} ms)`);
      stop();
    });

  fork(slots[0]);
  return finished;
}
