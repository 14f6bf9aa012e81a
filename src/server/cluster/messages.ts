/**
 * @module The IPC messages between `triage serve`'s primary and its workers (node:cluster). Each carries
 * a `triage` tag so they never mix with prom-client's own cluster messages on the same channel.
 */
import type { BreakerChange } from "../../common/breaker.js";
import type { ServerStatsSnapshot } from "../proxy/stats.js";

/** What a worker tells the primary once it listens; the primary prints it as the server's one JSON line. */
export interface ListeningInfo {
  listening: string;
  port: number;
  modelVersion: string;
  providers: string[];
  auth: boolean;
}

/**
 * A provider's circuit breaker news, the same both ways: the primary relays a worker's to the others.
 * "failed" and "recovered" keep one count of failures in a row for the whole server; none while healthy.
 */
export interface BreakerMessage {
  triage: "breaker";
  provider: string;
  state: BreakerChange;
}

export type WorkerMessage =
  | { triage: "listening"; info: ListeningInfo }
  /** A worker answering GET /v1/stats asks for the whole server's counters. */
  | { triage: "stats?"; id: number }
  /** A worker answering GET /metrics asks for every worker's metrics, aggregated. */
  | { triage: "metrics?"; id: number }
  /** This worker's counters, for the primary's gather `id`. */
  | { triage: "snapshot"; id: number; snapshot: ServerStatsSnapshot }
  /** An admin reload succeeded here: the other workers should reload too. */
  | { triage: "reloaded" }
  /** What this worker's own calls did to `provider`'s circuit breaker: the others should follow. */
  | BreakerMessage
  /** A chat turn asks which model its conversation is on (the primary holds the server's one memory). */
  | { triage: "conversation?"; id: number; conversation: string }
  /** A turn was answered with `label`: the conversation's model, unless it has one of `keep` (dearer ones). */
  | { triage: "conversation="; id: number; conversation: string; label: string; keep: string[] };

export type PrimaryMessage =
  | { triage: "snapshot?"; id: number }
  | { triage: "stats"; id: number; snapshot?: ServerStatsSnapshot; workers?: number; error?: string }
  | { triage: "metrics"; id: number; text?: string; error?: string }
  | { triage: "reload" }
  /** Another worker's breaker for `provider` opened, closed, counted a failure or cleared its count: so does this one, silently. */
  | BreakerMessage
  /** The answer to conversation? and conversation=: the conversation's model now (none: unknown). */
  | { triage: "conversation"; id: number; label?: string };

function tagged(message: unknown): message is { triage: string } {
  return typeof message === "object" && message !== null && typeof (message as { triage?: unknown }).triage === "string";
}

export const isWorkerMessage = (message: unknown): message is WorkerMessage => tagged(message);
export const isPrimaryMessage = (message: unknown): message is PrimaryMessage => tagged(message);

/** The environment variable that carries a worker's slot number (1..N); a restarted worker keeps its slot. */
export const WORKER_ID_ENV = "TRIAGE_WORKER_ID";
/** The environment variable that carries the dashboard's session secret (hex), the same in every worker. */
export const SESSION_SECRET_ENV = "TRIAGE_WORKER_SESSION_SECRET";
