import { z } from "zod";
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

/** The `log:` section a config file can carry (the CLI/server maps it onto DecisionLog.open and prune). */
export const decisionLogConfigSchema = z.object({
  path: z.string().min(1),
  textMode: z.enum(["store", "hash", "redact"]).default("store"),
  durability: z.enum(["normal", "full"]).default("normal"),
  batchSize: z.number().int().positive().default(256),
  flushIntervalMs: z.number().int().nonnegative().default(50),
  retention: z
    .object({
      /** Delete decisions older than this, e.g. "90d". */
      olderThan: duration.optional(),
      /** Keep at most this many decisions (the newest). */
      maxRows: z.number().int().positive().optional(),
    })
    .optional(),
});

export type DecisionLogConfig = z.output<typeof decisionLogConfigSchema>;

/** The prune() arguments for a retention section; undefined when it asks for nothing. */
export function retentionToPrune(retention: DecisionLogConfig["retention"]): { olderThanMs?: number; maxRows?: number } | undefined {
  if (!retention || (retention.olderThan === undefined && retention.maxRows === undefined)) return undefined;
  return {
    ...(retention.olderThan !== undefined ? { olderThanMs: parseDurationMs(retention.olderThan, "retention.olderThan") } : {}),
    ...(retention.maxRows !== undefined ? { maxRows: retention.maxRows } : {}),
  };
}
