/**
 * @module Feedback about a logged decision, as `triage feedback` and `POST /v1/feedback` take it: one
 * validation for both, so the CLI and the HTTP API accept and refuse the same things.
 *
 * The request id may be given in full or by a unique prefix (the first characters of a UUID are enough
 * to type). A label must be one the deciding model knows, or `out-of-scope` for a query none of its
 * labels fits: retraining holds those out to check that the model keeps flagging such queries.
 */
import { withoutUndefined } from "../../common/defined.js";
import { TriageError } from "../../common/errors.js";
import type { DecisionStore, FeedbackInput, LoggedDecision } from "../../store/index.js";

/** The label a person gives a query that belongs to none of the model's labels. */
export const OUT_OF_SCOPE = "out-of-scope";

/** Error codes, so the HTTP layer can answer 404 for an unknown id and 400 for the rest. */
export const FEEDBACK_ERRORS = {
  unknownRequest: "E_UNKNOWN_REQUEST",
  ambiguousRequest: "E_AMBIGUOUS_REQUEST",
  unknownLabel: "E_UNKNOWN_LABEL",
  shortPrefix: "E_SHORT_PREFIX",
  invalid: "E_FEEDBACK_INPUT",
} as const;

/** What a caller says about a decision; exactly one of label / thumbs / score / escalated, or only outcome fields. */
export interface FeedbackRequest {
  /** The decision's request id, or a prefix of it that matches one decision only. */
  requestId: string;
  /** The right route according to a person (a label of the deciding model, or `out-of-scope`). */
  label?: string;
  thumbs?: "up" | "down";
  /** How well the model that answered did, 0 (wrong) to 1 (right): an outcome an outcome model learns from. */
  score?: number;
  /** A quality check found the routed tier not good enough (retraining learns the next tier up). */
  escalated?: boolean;
  finalModel?: string;
  tokensIn?: number;
  tokensOut?: number;
  /** USD. */
  cost?: number;
  note?: string;
}

export interface RecordedFeedback extends FeedbackInput {
  feedbackId: number;
  /** The full request id the feedback was stored under. */
  requestId: string;
}

/**
 * The decision a request id or unique prefix names. An exact id wins over longer ids it is a prefix of.
 * Throws a TriageError (code unknownRequest / ambiguousRequest) naming what was given.
 */
export async function findDecision(log: DecisionStore, given: string, minPrefix = 1): Promise<LoggedDecision> {
  if (given === "") throw new TriageError("feedback: the request id is empty", FEEDBACK_ERRORS.invalid);
  const exact = await log.query({ requestId: given, limit: 1 });
  if (exact.length === 1) return exact[0];
  if (given.length < minPrefix)
    throw new TriageError(`feedback: "${given}" is not a full request id, and a prefix needs at least ${minPrefix} characters`, FEEDBACK_ERRORS.shortPrefix);
  const matches = await log.query({ requestIdPrefix: given, limit: 3 });
  if (matches.length === 0) throw new TriageError(`feedback: unknown request id "${given}" (no decision with that id or prefix in ${log.path})`, FEEDBACK_ERRORS.unknownRequest);
  if (matches.length > 1) {
    const shown = matches.slice(0, 2).map((m) => m.requestId);
    throw new TriageError(
      `feedback: request id prefix "${given}" matches ${matches.length > 2 ? "3 or more" : "2"} decisions (${shown.join(", ")}${matches.length > 2 ? ", ..." : ""}); give more of the id`,
      FEEDBACK_ERRORS.ambiguousRequest,
    );
  }
  return matches[0];
}

/** The labels the model that made this decision knows (its scores have one entry per label). */
export function decisionLabels(d: LoggedDecision): string[] {
  return Object.keys(d.scores);
}

/**
 * Checks the request, resolves the id, and stores the feedback; returns what was stored.
 * `minPrefix`: the shortest prefix accepted in place of a full id (the HTTP API asks for more than the CLI).
 */
export async function recordFeedback(log: DecisionStore, req: FeedbackRequest, options: { minPrefix?: number } = {}): Promise<RecordedFeedback> {
  const input = toInput(req);
  const decision = await findDecision(log, req.requestId, options.minPrefix);
  if (req.label !== undefined) {
    const known = decisionLabels(decision);
    // A decision logged without scores cannot say which labels its model had; accept the label then.
    if (known.length > 0 && !known.includes(req.label) && req.label !== OUT_OF_SCOPE)
      throw new TriageError(
        `feedback: label "${req.label}" is not one of the model's labels (${known.join(", ")}) for request ${decision.requestId}; use ${OUT_OF_SCOPE} for a query none of them fits`,
        FEEDBACK_ERRORS.unknownLabel,
      );
  }
  // Thumbs and scores judge a model: the one named, else the one that answered (the proxy logs it), else the routed label.
  if ((input.kind === "thumbs" || input.kind === "score") && input.finalModel === undefined) input.finalModel = answeringModel(decision);
  const feedbackId = await log.feedback(decision.requestId, input);
  return { feedbackId, requestId: decision.requestId, ...input };
}

/** The model that answered a logged decision: the last call the proxy recorded, else the decision's label. */
export function answeringModel(d: LoggedDecision): string {
  const last = [...d.feedback].reverse().find((f) => f.finalModel !== null && (f.kind === "outcome" || f.kind === "escalated"));
  return last?.finalModel ?? d.label;
}

/** The stored form; refuses a request that says nothing or says two kinds of thing at once. */
function toInput(req: FeedbackRequest): FeedbackInput {
  const kinds = [req.label !== undefined, req.thumbs !== undefined, req.score !== undefined, req.escalated === true].filter(Boolean).length;
  if (kinds > 1) throw new TriageError("feedback: give one of label, thumbs, score or escalated per call", FEEDBACK_ERRORS.invalid);
  if (req.score !== undefined && !(typeof req.score === "number" && req.score >= 0 && req.score <= 1))
    throw new TriageError(`feedback: score must be a number from 0 to 1, got ${String(req.score)}`, FEEDBACK_ERRORS.invalid);
  if (req.label !== undefined && req.label.trim() === "") throw new TriageError("feedback: the label is empty", FEEDBACK_ERRORS.invalid);
  if (req.thumbs !== undefined && req.thumbs !== "up" && req.thumbs !== "down")
    throw new TriageError(`feedback: thumbs must be up or down, got "${String(req.thumbs)}"`, FEEDBACK_ERRORS.invalid);
  const outcome = { finalModel: req.finalModel, tokensIn: req.tokensIn, tokensOut: req.tokensOut, costUsd: req.cost, note: req.note };
  const hasOutcome = Object.values(outcome).some((v) => v !== undefined);
  if (kinds === 0 && !hasOutcome)
    throw new TriageError("feedback: nothing to record; give a label, thumbs, a score, escalated, or the final model / tokens / cost", FEEDBACK_ERRORS.invalid);
  return {
    kind: req.label !== undefined ? "label" : req.thumbs !== undefined ? "thumbs" : req.score !== undefined ? "score" : req.escalated ? "escalated" : "outcome",
    ...(req.label !== undefined ? { humanLabel: req.label } : {}),
    ...(req.thumbs !== undefined ? { thumbs: req.thumbs === "up" ? 1 : -1 } : {}),
    ...(req.score !== undefined ? { score: req.score } : {}),
    ...(withoutUndefined(outcome) as Partial<FeedbackInput>),
  };
}
