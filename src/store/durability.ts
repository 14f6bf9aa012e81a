/**
 * @module The two durability settings of a decision log, shared by the library options and the config file:
 * - `durability`: when a decision is committed. "batched" (default): log() queues and a timer writes
 *   batches, so a kill -9 or power loss loses the decisions of the last flush interval. "strict": log()
 *   commits the decision before it returns, so an answer that has left was logged.
 * - `sync`: whether a commit waits for the disk (SQLite's synchronous). "normal" (default): a commit
 *   survives a process crash; power loss may roll back the last commits. "full": an fsync per commit.
 * The old spelling `durability: normal | full` meant `sync` and is still accepted.
 */
import { z } from "zod";

export type Durability = "batched" | "strict";
export type SyncMode = "normal" | "full";

export const durabilityFields = {
  durability: z.enum(["batched", "strict", "normal", "full"]).default("batched"),
  sync: z.enum(["normal", "full"]).optional(),
};

interface DurabilityInput {
  durability: Durability | SyncMode;
  sync?: SyncMode | undefined;
}

/** Maps the old spelling onto the new fields; a conflicting pair is an issue on `sync`. */
export function resolveDurability<T extends DurabilityInput>(value: T, ctx: z.RefinementCtx): Omit<T, "durability" | "sync"> & { durability: Durability; sync: SyncMode } {
  const { durability, sync, ...rest } = value;
  if (durability === "batched" || durability === "strict") return { ...rest, durability, sync: sync ?? "normal" };
  if (sync !== undefined && sync !== durability)
    ctx.addIssue({ code: "custom", path: ["sync"], message: `conflicts with durability "${durability}" (the old spelling of sync: ${durability})` });
  return { ...rest, durability: "batched", sync: durability };
}
