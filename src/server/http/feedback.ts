/**
 * @module POST /v1/feedback: the CLI's `triage feedback` over HTTP, with the same validation
 * (src/review/feedback.ts), so a served deployment can close the learning loop without shell access to
 * the log file. Errors are OpenAI-style and name the field; they never show the log's path or other
 * callers' request ids.
 */
import { z } from "zod";
import { TriageError } from "../../common/errors.js";
import { FEEDBACK_ERRORS, recordFeedback, type RecordedFeedback } from "../../retrain/review/feedback.js";
import type { DecisionStore } from "../../store/index.js";
import { ApiError } from "../errors.js";
import { validate } from "../proxy/request.js";

/** Over HTTP a prefix must be at least this long (a UUID's first group), so ids cannot be probed a character at a time. */
export const MIN_HTTP_PREFIX = 8;

export const feedbackRequestSchema = z
  .object({
    requestId: z.string().min(1),
    label: z.string().min(1).optional(),
    thumbs: z.enum(["up", "down"]).optional(),
    score: z.number().min(0).max(1).optional(),
    escalated: z.boolean().optional(),
    finalModel: z.string().min(1).optional(),
    tokensIn: z.number().int().nonnegative().optional(),
    tokensOut: z.number().int().nonnegative().optional(),
    cost: z.number().nonnegative().optional(),
    note: z.string().max(2000).optional(),
  })
  .strict();

export async function postFeedback(log: DecisionStore | undefined, body: unknown): Promise<RecordedFeedback> {
  const req = validate(feedbackRequestSchema, body);
  if (!log) throw new ApiError(503, "feedback needs the decision log; start the server with --log-db FILE (or log.path in its config)", "server_error", null, "no_decision_log");
  try {
    return await recordFeedback(log, req, { minPrefix: MIN_HTTP_PREFIX });
  } catch (err) {
    if (!(err instanceof TriageError)) throw err;
    throw toApiError(err, req.requestId, req.label);
  }
}

function toApiError(err: TriageError, requestId: string, label: string | undefined): ApiError | TriageError {
  switch (err.code) {
    case FEEDBACK_ERRORS.unknownRequest:
      return new ApiError(404, `no logged decision has the request id "${requestId}" (or starts with it)`, "invalid_request_error", "requestId", "unknown_request_id");
    case FEEDBACK_ERRORS.ambiguousRequest:
      return new ApiError(
        400,
        `request id prefix "${requestId}" matches more than one decision; give more of the id`,
        "invalid_request_error",
        "requestId",
        "ambiguous_request_id",
      );
    case FEEDBACK_ERRORS.shortPrefix:
      return new ApiError(
        400,
        `"${requestId}" is not a full request id, and a prefix needs at least ${MIN_HTTP_PREFIX} characters`,
        "invalid_request_error",
        "requestId",
        "request_id_too_short",
      );
    case FEEDBACK_ERRORS.unknownLabel:
      return new ApiError(400, err.message.replace(/^feedback: /, ""), "invalid_request_error", "label", "unknown_label");
    case FEEDBACK_ERRORS.invalid:
      return new ApiError(400, err.message.replace(/^feedback: /, ""), "invalid_request_error", label === undefined ? null : "label", "invalid_feedback");
    default:
      return err; // the log itself failed: a 500, with the details in the server log
  }
}
