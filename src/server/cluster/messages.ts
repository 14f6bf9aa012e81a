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
 * Whose circuit breaker: a provider's, by its configured name, or the `fallback` policy's LLM classifier's
 * (its own kind, so that no provider name can stand for it).
 */
export type BreakerOf = { kind: "provider"; provider: string } | { kind: "fallback" };

/**
 * A circuit breaker's news, the same both ways: the primary relays a worker's to the others. "failed" and
 * "recovered" keep one count of failures in a row for the whole server; none while healthy.
 */
export type BreakerMessage = BreakerOf & { triage: "breaker"; state: BreakerChange };

const BREAKER_CHANGES: ReadonlySet<string> = new Set<BreakerChange>(["open", "closed", "failed", "recovered"]);

/** Only a breaker message with a known change and exactly one known kind of breaker is applied; anything else is dropped. */
function wellFormedBreaker(message: Record<string, unknown>): boolean {
  if (typeof message.state !== "string" || !BREAKER_CHANGES.has(message.state)) return false;
  if (message.kind === "provider") return typeof message.provider === "string";
  return message.kind === "fallback" && !("provider" in message);
}

/** The news to relay or send: only the fields of `of` that name the breaker, whatever else the object holds. */
export function breakerMessage(of: BreakerOf, state: BreakerChange): BreakerMessage {
  return of.kind === "provider" ? { triage: "breaker", kind: "provider", provider: of.provider, state } : { triage: "breaker", kind: "fallback", state };
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
  /** What this worker's own calls did to a provider's or the fallback classifier's circuit breaker: the others should follow. */
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
  /** Another worker's breaker (a provider's or the classifier's) opened, closed, counted a failure or cleared its count: so does this one, silently. */
  | BreakerMessage
  /** The answer to conversation? and conversation=: the conversation's model now (none: unknown). */
  | { triage: "conversation"; id: number; label?: string };

function tagged(message: unknown): message is { triage: string } {
  if (typeof message !== "object" || message === null) return false;
  const fields = message as Record<string, unknown>;
  return typeof fields.triage === "string" && (fields.triage !== "breaker" || wellFormedBreaker(fields));
}

export const isWorkerMessage = (message: unknown): message is WorkerMessage => tagged(message);
export const isPrimaryMessage = (message: unknown): message is PrimaryMessage => tagged(message);

/** The environment variable that carries a worker's slot number (1..N); a restarted worker keeps its slot. */
export const WORKER_ID_ENV = "TRIAGE_WORKER_ID";
/** The environment variable that carries how many workers the server has (N of --workers N), the same in every worker. */
export const WORKERS_ENV = "TRIAGE_WORKERS";
/** The environment variable that carries the dashboard's session secret (hex), the same in every worker. */
export const SESSION_SECRET_ENV = "TRIAGE_WORKER_SESSION_SECRET";
