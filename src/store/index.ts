export { DecisionLog, type DecisionLogOptions } from "./log.js";
export { LATEST_SCHEMA_VERSION } from "./schema.js";
export type { ExportFormat } from "./export.js";
export type { StatsOptions } from "./stats.js";
export { parseDurationMs, parseTimeBound } from "./time.js";
export type * from "./types.js";
export { decisionLogConfigSchema, retentionToPrune, type DecisionLogConfig } from "./config.js";
export { formatStats } from "./format.js";
