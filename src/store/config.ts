import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import type { DecisionLogOptions } from "./log.js";
import { durabilityFields, resolveDurability } from "./durability.js";
import { DEFAULT_MAX_TEXT_CHARS } from "./text.js";
import { parseDurationMs } from "./time.js";

const duration = z.string().refine(
  (s) => {
    try {
      parseDurationMs(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "expected a duration like 30m, 24h or 7d" },
);

/** How often `serve` applies the retention rules when the config does not say. */
export const DEFAULT_RETENTION_EVERY = "1m";

/** The `log:` section a config file can carry (the CLI/server maps it onto DecisionLog.open and prune). */
export const decisionLogConfigSchema = z
  .object({
    /** The log file; `serve --log-db` overrides it. */
    path: z.string().min(1).optional(),
    textMode: z.enum(["store", "hash", "redact"]).default("store"),
    /** At most this many characters (UTF-16 code units) of each text are stored; default what the router reads. */
    maxTextChars: z.number().int().nonnegative().default(DEFAULT_MAX_TEXT_CHARS),
    ...durabilityFields,
    batchSize: z.number().int().positive().default(256),
    flushIntervalMs: z.number().int().nonnegative().default(50),
    retention: z
      .object({
        /** Delete decisions older than this, e.g. "90d". */
        olderThan: duration.optional(),
        /** Keep at most this many decisions (the newest). */
        maxRows: z.number().int().positive().optional(),
        /** How often `serve` applies the two rules above (it also does once at start). */
        every: duration.default(DEFAULT_RETENTION_EVERY),
      })
      .strict()
      .optional(),
  })
  .strict()
  .transform(resolveDurability);

export type DecisionLogConfigInput = z.input<typeof decisionLogConfigSchema>;
export type DecisionLogConfig = z.output<typeof decisionLogConfigSchema>;

/** The prune() arguments for a retention section; undefined when it asks for nothing. */
export function retentionToPrune(retention: DecisionLogConfig["retention"]): { olderThanMs?: number; maxRows?: number } | undefined {
  if (!retention || (retention.olderThan === undefined && retention.maxRows === undefined)) return undefined;
  return {
    ...(retention.olderThan !== undefined ? { olderThanMs: parseDurationMs(retention.olderThan, "retention.olderThan") } : {}),
    ...(retention.maxRows !== undefined ? { maxRows: retention.maxRows } : {}),
  };
}

/** DecisionLog.open options for a log section (path and retention are the caller's business). */
export function logOpenOptions(config: DecisionLogConfig | undefined): DecisionLogOptions {
  if (!config) return {};
  const { textMode, maxTextChars, durability, sync, batchSize, flushIntervalMs } = config;
  return { textMode, maxTextChars, durability, sync, batchSize, flushIntervalMs };
}

/** `serve` flags that override the config's log section. */
export interface LogFlags {
  /** --log-db */
  path?: string;
  durability?: string;
  maxRows?: number;
  olderThan?: string;
}

/** The log section with the flags applied; a bad flag value, or a log flag with no log, is an error naming the flag. */
export function withLogFlags(config: DecisionLogConfig | undefined, flags: LogFlags): DecisionLogConfig | undefined {
  const { path, durability, maxRows, olderThan } = flags;
  if (durability === undefined && maxRows === undefined && olderThan === undefined) return config;
  if (path === undefined && config?.path === undefined) {
    const given = [durability !== undefined && "--log-durability", maxRows !== undefined && "--log-max-rows", olderThan !== undefined && "--log-older-than"];
    throw new TriageError(`${given.filter(Boolean).join(", ")}: no decision log to apply to (give --log-db FILE or log.path in the config)`);
  }
  if (durability !== undefined && durability !== "batched" && durability !== "strict") throw new TriageError(`--log-durability: expected batched or strict, got "${durability}"`);
  if (olderThan !== undefined) parseDurationMs(olderThan, "--log-older-than");
  const base: DecisionLogConfigInput = config ?? {};
  const parsed = decisionLogConfigSchema.safeParse({
    ...base,
    ...(durability !== undefined ? { durability } : {}),
    ...(maxRows !== undefined || olderThan !== undefined
      ? { retention: { ...base.retention, ...(maxRows !== undefined ? { maxRows } : {}), ...(olderThan !== undefined ? { olderThan } : {}) } }
      : {}),
  });
  if (!parsed.success) throw new TriageError(`serve log flags: ${formatZodError(parsed.error)}`);
  return parsed.data;
}
