/**
 * @module A `triage serve` worker's side of the cluster: asks the primary for the whole server's stats and
 * metrics and for its conversations' models, answers the primary's requests for this worker's counters,
 * and passes admin reloads and circuit breaker news on.
 */
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { BreakerChange } from "../../common/breaker.js";
import { TriageError } from "../../common/errors.js";
import type { ConversationStore } from "../proxy/conversations.js";
import type { ServerStatsSnapshot } from "../proxy/stats.js";
import { PrimaryAsker } from "./ask.js";
import { ClusterConversations } from "./conversations.js";
import {
  type BreakerOf,
  breakerMessage,
  isPrimaryMessage,
  type ListeningInfo,
  type PrimaryMessage,
  type WorkerMessage,
  SESSION_SECRET_ENV,
  WORKER_ID_ENV,
  WORKERS_ENV,
} from "./messages.js";

/** Longer than the primary's own gather timeout, so the primary's answer (or its error) normally comes first. */
const ASK_TIMEOUT_MS = 15_000;

/** What createServer needs from the cluster: the worker's id and the whole server's counters. */
export interface ClusterLink {
  /** This worker's slot (1..N), sent in every response's x-triage-worker header. */
  readonly workerId: string;
  /** How many workers the server has (its --workers N): what is budgeted for the whole server is split N ways. */
  readonly workers: number;
  /** The same in every worker of the server: signs dashboard sessions so that any worker accepts them. */
  readonly sessionSecret?: Uint8Array;
  /** Every worker's /v1/stats counters added up (each worker flushes its decision log first). */
  stats(): Promise<{ snapshot: ServerStatsSnapshot; workers: number }>;
  /** Every worker's Prometheus metrics, aggregated by prom-client. */
  metrics(): Promise<string>;
  /** An admin reload succeeded in this worker: the others reload too. */
  reloaded(): void;
  /**
   * This worker's own calls opened or closed a provider's (or the fallback classifier's) breaker, or counted a
   * failure or cleared the count while it was closed: the others follow, so failures in a row are counted
   * across the server (best effort; with the IPC channel down each worker keeps its own breaker and count,
   * as a single process does).
   */
  breakerChanged(of: BreakerOf, state: BreakerChange): void;
  /** The server's one conversation memory, in the primary; its failures go to `onError` (once per outage). */
  conversations(onError: (error: Error) => void): ConversationStore;
  /** createServer hands over what the primary may ask of this worker. */
  serve(local: LocalServer): void;
}

/** What this worker hands the primary when asked. */
export interface LocalServer {
  snapshot(): ServerStatsSnapshot;
  /** Commits queued decisions, so a stats reader elsewhere sees them. */
  flushLog(): void;
  reload(): void;
  /** Another worker's news for a provider's or the classifier's breaker: this worker's does the same, without passing it on. */
  breaker(of: BreakerOf, state: BreakerChange): void;
  registry: Registry;
}

export class WorkerLink implements ClusterLink {
  readonly workerId: string;
  readonly workers: number;
  readonly sessionSecret: Uint8Array | undefined;
  private local: LocalServer | undefined;
  private readonly asker = new PrimaryAsker((message, done) => this.send(message, done));

  private constructor() {
    this.workerId = process.env[WORKER_ID_ENV] ?? String(cluster.worker?.id ?? "?");
    // Not told (a worker forked by something else): counted as a server of its own, as before the count was sent.
    const workers = Number(process.env[WORKERS_ENV]);
    this.workers = Number.isInteger(workers) && workers >= 1 ? workers : 1;
    const secret = process.env[SESSION_SECRET_ENV];
    this.sessionSecret = secret ? Buffer.from(secret, "hex") : undefined;
    delete process.env[SESSION_SECRET_ENV]; // not passed on to anything this worker starts
    // Constructing it installs prom-client's listener for the primary's metric requests.
    new AggregatorRegistry();
    process.on("message", (message: unknown) => {
      if (isPrimaryMessage(message)) this.receive(message);
    });
  }

  /** The link of this process, which must be a cluster worker. */
  static connect(): WorkerLink {
    if (!cluster.isWorker || !process.send) throw new TriageError("not a triage serve worker (no cluster primary to talk to)");
    return new WorkerLink();
  }

  /** From now on the primary's requests are answered from this server. */
  serve(local: LocalServer): void {
    this.local = local;
    AggregatorRegistry.setRegistries([local.registry]);
  }

  listening(info: ListeningInfo): void {
    this.send({ triage: "listening", info });
  }

  async stats(): Promise<{ snapshot: ServerStatsSnapshot; workers: number }> {
    const answer = await this.asker.ask((id) => ({ triage: "stats?", id }), ASK_TIMEOUT_MS);
    if (answer.triage !== "stats" || !answer.snapshot) throw new TriageError(`server stats from the workers: ${errorOf(answer) ?? "no answer"}`);
    return { snapshot: answer.snapshot, workers: answer.workers ?? 0 };
  }

  async metrics(): Promise<string> {
    const answer = await this.asker.ask((id) => ({ triage: "metrics?", id }), ASK_TIMEOUT_MS);
    if (answer.triage !== "metrics" || answer.text === undefined) throw new TriageError(`metrics from the workers: ${errorOf(answer) ?? "no answer"}`);
    return answer.text;
  }

  reloaded(): void {
    this.send({ triage: "reloaded" });
  }

  breakerChanged(of: BreakerOf, state: BreakerChange): void {
    this.send(breakerMessage(of, state));
  }

  conversations(onError: (error: Error) => void): ConversationStore {
    return new ClusterConversations(this.asker, onError);
  }

  private receive(message: PrimaryMessage): void {
    switch (message.triage) {
      case "snapshot?": {
        if (!this.local) return; // the primary only asks workers that listen
        try {
          this.local.flushLog();
        } catch {
          // a busy or failing log is retried by its own queue; the counters are still worth sending
        }
        this.send({ triage: "snapshot", id: message.id, snapshot: this.local.snapshot() });
        return;
      }
      case "reload":
        this.local?.reload();
        return;
      case "breaker":
        this.local?.breaker(message, message.state);
        return;
      default:
        this.asker.answer(message);
    }
  }

  private send(message: WorkerMessage, done: (err: Error | null) => void = () => {}): void {
    if (!process.send || !process.connected) {
      done(new Error("the IPC channel is closed"));
      return;
    }
    process.send(message, undefined, {}, (err: Error | null) => done(err));
  }
}

function errorOf(message: PrimaryMessage): string | undefined {
  return "error" in message ? message.error : undefined;
}
