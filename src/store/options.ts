/** @module DecisionLog.open's options: checked, defaulted, and what each one trades. */
import { z } from "zod";
import { durabilityFields, resolveDurability } from "./durability.js";
import { DEFAULT_MAX_TEXT_CHARS } from "./text.js";

export const logOptionsSchema = z
  .object({
    textMode: z.enum(["store", "hash", "redact"]).default("store"),
    /** At most this many UTF-16 code units of each text are stored (the whole text's hash and length always are). */
    maxTextChars: z.number().int().nonnegative().default(DEFAULT_MAX_TEXT_CHARS),
    /** A full batch is written on the next event-loop turn instead of waiting for the timer. */
    batchSize: z.number().int().positive().default(256),
    /** Batched mode: how long a decision may wait in the queue, i.e. what a kill -9 or power loss can lose. */
    flushIntervalMs: z.number().int().nonnegative().default(50),
    /**
     * durability "batched" | "strict": see durability.ts. sync "normal" (WAL, no fsync per commit): a commit
     * survives a process crash; on power loss the last commits may roll back. "full": also survives power
     * loss, at the price of an fsync per commit on the event loop. Either way the file is never corrupted.
     */
    ...durabilityFields,
    /**
     * At this many queued rows log() writes them itself (bounds memory when the event loop never yields).
     * If the database keeps failing, rows beyond it are dropped and reported, never thrown at the caller.
     */
    maxPending: z.number().int().positive().default(50_000),
    readonly: z.boolean().default(false),
    /**
     * How long a write waits for another process's write lock. better-sqlite3 waits synchronously, so
     * this bounds how long a flush can hold the event loop; a flush that gives up is retried later.
     */
    busyTimeoutMs: z.number().int().nonnegative().default(1000),
  })
  .strict()
  .transform(resolveDurability);

export type DecisionLogOptions = z.input<typeof logOptionsSchema> & {
  /** Background flush failures and rows that could not be stored. Default: a process warning. */
  onError?: (error: Error) => void;
};

/** The options once checked, with every default filled in. */
export type ResolvedLogOptions = z.output<typeof logOptionsSchema>;
