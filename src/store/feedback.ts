/** @module Feedback rows about logged decisions: checking one, adding it to its decision, and deleting one (review's undo). */
import type Database from "better-sqlite3";
import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import type { FeedbackInput } from "./types.js";

const feedbackSchema = z
  .object({
    kind: z.enum(["label", "thumbs", "escalated", "outcome", "score"]),
    humanLabel: z.string().min(1).optional(),
    thumbs: z.union([z.literal(1), z.literal(-1)]).optional(),
    finalModel: z.string().min(1).optional(),
    score: z.number().min(0).max(1).optional(),
    tokensIn: z.number().int().nonnegative().optional(),
    tokensOut: z.number().int().nonnegative().optional(),
    costUsd: z.number().nonnegative().optional(),
    note: z.string().optional(),
    ts: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((f) => f.kind !== "label" || f.humanLabel !== undefined, { message: 'kind "label" needs humanLabel', path: ["humanLabel"] })
  .refine((f) => f.kind !== "thumbs" || f.thumbs !== undefined, { message: 'kind "thumbs" needs thumbs: 1 or -1', path: ["thumbs"] })
  .refine((f) => f.kind !== "score" || f.score !== undefined, { message: 'kind "score" needs score: a number from 0 to 1', path: ["score"] });

/** The feedback as given, checked: a TriageError names the request and the field otherwise. */
export function parseFeedback(requestId: string, input: FeedbackInput): FeedbackInput {
  const parsed = feedbackSchema.safeParse(input);
  if (!parsed.success) throw new TriageError(`feedback for ${requestId}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** The feedback insert both stores run (PostgreSQL numbers its placeholders), with feedbackParams' values. */
export const INSERT_FEEDBACK_SQL = `INSERT INTO feedback (request_id, ts, kind, human_label, thumbs, final_model, tokens_in, tokens_out, cost_usd, note, score)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function feedbackParams(requestId: string, f: FeedbackInput): Array<string | number | null> {
  return [
    requestId,
    f.ts ?? Date.now(),
    f.kind,
    f.humanLabel ?? null,
    f.thumbs ?? null,
    f.finalModel ?? null,
    f.tokensIn ?? null,
    f.tokensOut ?? null,
    f.costUsd ?? null,
    f.note ?? null,
    f.score ?? null,
  ];
}

/** Adds checked feedback to the decision logged as `requestId` (which must exist); returns the feedback row id. */
export function insertFeedback(db: Database.Database, path: string, requestId: string, f: FeedbackInput): number {
  const known = db.prepare("SELECT 1 FROM decisions WHERE request_id = ?").get(requestId);
  if (!known) throw new TriageError(`feedback: unknown request id "${requestId}" (no decision with that id in ${path})`, "E_UNKNOWN_REQUEST");
  const info = db.prepare(INSERT_FEEDBACK_SQL).run(...feedbackParams(requestId, f));
  return Number(info.lastInsertRowid);
}

/** Deletes one feedback row by the id insertFeedback returned; a missing one is an error naming the log. */
export function deleteFeedback(db: Database.Database, path: string, id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new TriageError(`${path}: feedback id must be a positive integer, got ${id}`);
  if (db.prepare("DELETE FROM feedback WHERE id = ?").run(id).changes !== 1) throw new TriageError(`${path}: feedback ${id} not found, nothing deleted`);
}
