/**
 * @module The decision log (store/): every decision and its feedback, batched or strict writes, bounded
 * rows, filters, export, stats and savings, retention, behind one interface (`DecisionStore`) held by a
 * SQLite file (`DecisionLog`: WAL, migrated schema) or a PostgreSQL database (`postgres/log.ts`'s
 * PgDecisionLog, same schema, loaded on demand); `openDecisionLog` picks by the location. CLI and server log through it.
 */
export { DecisionLog, NOT_COMMITTED, type DecisionLogOptions } from "./log.js";
export { openDecisionLog } from "./open.js";
export { isPostgresUrl, redactUrl } from "./location.js";
export type { Awaitable, DecisionStore } from "./store.js";
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
