/**
 * @module The decision log (store/): `DecisionLog`, one SQLite file (WAL, migrated schema) holding every decision
 * and its feedback: batched or strict writes, bounded rows, filters, export, stats and savings, retention.
 * It implements router/'s DecisionSink port; CLI and server log through it.
 */
export { DecisionLog, NOT_COMMITTED, type DecisionLogOptions } from "./log.js";
export { LATEST_SCHEMA_VERSION } from "./schema.js";
export type { ExportFormat } from "./export.js";
export type { StatsOptions } from "./stats.js";
export { parseDurationMs, parseTimeBound } from "./time.js";
export type * from "./types.js";
export {
  decisionLogConfigSchema,
  logOpenOptions,
  retentionToPrune,
  withLogFlags,
  type DecisionLogConfig,
  type DecisionLogConfigInput,
  type LogFlags,
} from "./config.js";
export type { Durability, SyncMode } from "./durability.js";
export { startRetention, type RetentionTimer } from "./retention.js";
export { DEFAULT_MAX_TEXT_CHARS } from "./text.js";
export { formatStats } from "./format.js";
