/**
 * @module `triage serve --workers N`: one primary (primary.ts) and N worker processes on one port
 * (worker.ts), talking over node:cluster's IPC channel (messages.ts).
 */
import { availableParallelism } from "node:os";

export { runPrimary, type PrimaryOptions } from "./primary.js";
export { WorkerLink, type ClusterLink, type LocalServer } from "./worker.js";
export { mergeStats } from "./merge-stats.js";
export type { ListeningInfo } from "./messages.js";

/** The default --workers cap: each worker holds its own encoder session and model in memory. */
export const MAX_DEFAULT_WORKERS = 8;

/** One worker per core, at most MAX_DEFAULT_WORKERS. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_WORKERS));
}
