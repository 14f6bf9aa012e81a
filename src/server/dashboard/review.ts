/**
 * @module
 * Review in the browser: the same active-learning queue as `triage review` (built by buildReviewQueue
 * over the newest decisions), the same keys (one per label, s skip, u undo), plus an out-of-scope key.
 * Labels are written through DecisionStore.feedback, the call `triage feedback` and the proxy make; undo
 * deletes only a label this session wrote (DecisionStore.deleteFeedback).
 */
import { z } from "zod";
import { TriageError } from "../../common/errors.js";
import { formatZodError } from "../../config/load.js";
import { buildReviewQueue, type ReviewItem } from "../../retrain/review/queue.js";
import { ReviewSession } from "../../retrain/review/session.js";
import { OUT_OF_SCOPE } from "../../retrain/review/feedback.js";
import type { DashboardContext } from "./context.js";
import type { DashboardData } from "./data.js";
import { isOutcomeManifest, tierManifest, tierOnly } from "./model-kind.js";
import type { ReviewVectors } from "./review-vectors.js";
import type { Session } from "./session.js";

/** The queue ranks this many of the newest decisions (the CLI ranks the whole log). */
export const REVIEW_WINDOW = 20_000;
export const REVIEW_NOTE = "triage dashboard review";

export interface ReviewQueueView {
  items: ReviewItem[];
  /** Key -> label, in the terminal's order, then the out-of-scope key. */
  keys: Array<[string, string]>;
  window: number;
}

/** `vectors` keeps the window's embeddings between loads (see review-vectors.ts). */
export async function reviewQueue(ctx: DashboardContext, data: DashboardData, vectors?: ReviewVectors, limit = 50): Promise<ReviewQueueView> {
  if (!ctx.model) throw new TriageError("review needs the model (its labels and encoder): start `triage dashboard` with --model DIR");
  const manifest = tierManifest(ctx.model.manifest());
  if (!manifest) throw new TriageError(`${tierOnly("Review")}. Send outcomes instead: triage feedback --score, or POST /v1/feedback with a score or thumbs`, "E_BAD_REQUEST");
  const window = await (await data.reader()).newest(REVIEW_WINDOW);
  const items = await buildReviewQueue(
    { rows: () => window },
    { encoder: vectors ? vectors.wrap(await ctx.model.encoder()) : await ctx.model.encoder(), perLabel: manifest.data.perLabel, limit, similarity: 0.95 },
  );
  const keys = [...new ReviewSession([], manifest.labels, { write: () => 0, remove: () => {} }).keys];
  // The terminal's keys, its out-of-scope key included.
  return { items, keys, window: REVIEW_WINDOW };
}

const labelBody = z.object({ requestId: z.string().min(1).max(256), label: z.string().min(1).max(256) }).strict();
const undoBody = z.object({ feedbackId: z.number().int().positive() }).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new TriageError(`${what}: ${formatZodError(r.error)}`, "E_BAD_REQUEST");
  return r.data;
}

/** Stores a person's label for a logged decision; returns the feedback row id. */
export async function writeLabel(ctx: DashboardContext, session: Session, body: unknown): Promise<{ feedbackId: number; requestId: string; label: string }> {
  const { requestId, label } = parse(labelBody, body, "label");
  const model = ctx.model?.manifest();
  if (isOutcomeManifest(model)) throw new TriageError(`label: ${tierOnly("labels")}; send a score or thumbs (POST /v1/feedback)`, "E_BAD_REQUEST");
  const labels = model?.labels ?? [];
  if (label !== OUT_OF_SCOPE && !labels.includes(label))
    throw new TriageError(`label: "${label.slice(0, 80)}" is not one of the model's labels (${labels.join(", ")}) or ${OUT_OF_SCOPE}`, "E_BAD_REQUEST");
  const feedbackId = await (await ctx.feedbackLog()).feedback(requestId, { kind: "label", humanLabel: label, note: REVIEW_NOTE });
  session.written.add(feedbackId);
  return { feedbackId, requestId, label };
}

/** Takes back a label this session wrote (review's undo); other feedback is never deleted here. */
export async function undoLabel(ctx: DashboardContext, session: Session, body: unknown): Promise<{ feedbackId: number }> {
  const { feedbackId } = parse(undoBody, body, "undo");
  if (!session.written.has(feedbackId))
    throw new TriageError(`undo: feedback ${feedbackId} was not written in this session; only your own labels can be taken back`, "E_FORBIDDEN");
  await (await ctx.feedbackLog()).deleteFeedback(feedbackId);
  session.written.delete(feedbackId);
  return { feedbackId };
}
