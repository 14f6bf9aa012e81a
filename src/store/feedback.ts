/**
 * @module Feedback rows about logged decisions: checking one, adding it to its decision (now, returning its
 * id, or queued behind the decisions in the write queue), and deleting one (review's undo).
 */
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

/**
 * Feedback waiting in a write queue behind the decisions queued before it, so it is written after them in
 * the same transaction. `ts` is taken when it was queued.
 */
export interface PendingFeedback {
  requestId: string;
  feedback: FeedbackInput & { ts: number };
}

export function isPendingFeedback(row: object): row is PendingFeedback {
  return "feedback" in row;
}

/** Checked feedback, stamped now unless it has its own time, ready for a write queue. */
export function pendingFeedback(requestId: string, input: FeedbackInput): PendingFeedback {
  const f = parseFeedback(requestId, input);
  return { requestId, feedback: { ...f, ts: f.ts ?? Date.now() } };
}

/** Why a queued feedback row was not stored; a foreign-key failure means its decision is not in the log. */
export function feedbackRejection(row: PendingFeedback, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const why = code === "SQLITE_CONSTRAINT_FOREIGNKEY" || code === "23503" ? "no decision with that id" : (err as Error).message;
  return `feedback (${row.feedback.kind}) for request ${row.requestId} not stored: ${why}`;
}

/** A SQLite log's feedback statements, compiled once (not per call). */
export class FeedbackStatements {
  private statements: { known: Database.Statement<[string]>; insert: Database.Statement<unknown[]>; remove: Database.Statement<[number]> } | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
  ) {}

  /** Adds checked feedback to the decision logged as `requestId` (which must exist); returns the feedback row id. */
  insert(requestId: string, f: FeedbackInput): number {
    const s = this.prepared();
    if (!s.known.get(requestId)) throw new TriageError(`feedback: unknown request id "${requestId}" (no decision with that id in ${this.path})`, "E_UNKNOWN_REQUEST");
    return Number(s.insert.run(...feedbackParams(requestId, f)).lastInsertRowid);
  }

  /** Deletes one feedback row by the id insert returned; a missing one is an error naming the log. */
  delete(id: number): void {
    if (!Number.isSafeInteger(id) || id < 1) throw new TriageError(`${this.path}: feedback id must be a positive integer, got ${id}`);
    if (this.prepared().remove.run(id).changes !== 1) throw new TriageError(`${this.path}: feedback ${id} not found, nothing deleted`);
  }

  /** Compiled on first use: a log opened only to read never needs them. */
  private prepared() {
    this.statements ??= {
      known: this.db.prepare<[string]>("SELECT 1 FROM decisions WHERE request_id = ?"),
      insert: this.db.prepare<unknown[]>(INSERT_FEEDBACK_SQL),
      remove: this.db.prepare<[number]>("DELETE FROM feedback WHERE id = ?"),
    };
    return this.statements;
  }
}
