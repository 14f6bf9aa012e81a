/** Conversions between Decision objects, SQL parameters and typed rows. */
import type { DecidedBy, Decision, Stage } from "../router/types.js";
import { dialColumn, readDial } from "./dial.js";
import { keepText, type KeptText } from "./text.js";
import type { FeedbackRecord, LoggedDecision, TextMode } from "./types.js";

/**
 * What log() queues: the caller's objects as they are; conversion happens at flush, off the hot path.
 * A text longer than the cap is converted at log() instead (`kept`), so the queue never holds it whole.
 */
export interface PendingDecision {
  ts: number;
  decision: Decision;
  text: string;
  kept?: KeptText;
  tags: Record<string, string> | undefined;
}

/** The decisions columns a logged decision fills, in toParams' order; PostgreSQL's multi-row insert names the same. */
export const DECISION_INSERT_COLUMNS = [
  "ts",
  "request_id",
  "model_version",
  "text",
  "text_hash",
  "text_length",
  "label",
  "model_label",
  "confidence",
  "margin",
  "scores",
  "decided_by",
  "stage",
  "low_confidence",
  "fallback_used",
  "fallback_label",
  "fallback_error",
  "fallback_latency_ms",
  "latency_ms",
  "tags",
  "conversation",
  "sticky",
  "dial",
] as const;

export const INSERT_DECISION_SQL = `
  INSERT INTO decisions (${DECISION_INSERT_COLUMNS.join(", ")})
  VALUES (${DECISION_INSERT_COLUMNS.map(() => "?").join(", ")})
  ON CONFLICT (request_id) DO NOTHING`;

export type DecisionParams = [
  number,
  string,
  string,
  string | null,
  string | null,
  number | null,
  string,
  string,
  number,
  number,
  string,
  string,
  string,
  number,
  number,
  string | null,
  string | null,
  number | null,
  number,
  string | null,
  string | null,
  number | null,
  string | null,
];

export function toParams(p: PendingDecision, textMode: TextMode, maxTextChars: number): DecisionParams {
  const d = p.decision;
  const fb = d.fallback;
  const kept = p.kept ?? keepText(p.text, textMode, maxTextChars);
  return [
    p.ts,
    d.requestId,
    d.modelVersion,
    kept.text,
    kept.hash,
    kept.length,
    d.label,
    d.modelLabel,
    d.confidence,
    d.margin,
    JSON.stringify(d.scores),
    d.decidedBy,
    d.stage,
    d.lowConfidence ? 1 : 0,
    fb ? 1 : 0,
    fb?.label ?? null,
    fb?.error ?? null,
    fb?.latencyMs ?? null,
    d.latencyMs,
    p.tags && Object.keys(p.tags).length > 0 ? JSON.stringify(p.tags) : null,
    d.conversation?.id ?? null,
    d.conversation ? (d.conversation.sticky ? 1 : 0) : null,
    dialColumn(d),
  ];
}

/**
 * Columns selected for a LoggedDecision; feedback comes as one JSON array per row. A log opened read-only
 * is not migrated: it lacks the columns of later schemas (text_length from 2, conversation and sticky
 * from 3, dial from 5), read as NULL.
 */
export const decisionColumns = (schemaVersion: number) => `
  ${decisionFields(schemaVersion)},
  (SELECT json_group_array(json_object(${feedbackFields(schemaVersion)}) ORDER BY f.id)
   FROM feedback f WHERE f.request_id = d.request_id) AS feedback`;

/** A LoggedDecision's own columns, in either dialect (postgres/sql.ts aggregates the feedback its own way). */
export const decisionFields = (schemaVersion: number) => `
  d.id, d.ts, d.request_id, d.model_version, d.text, d.text_hash, ${schemaVersion >= 2 ? "d.text_length" : "NULL AS text_length"}, d.label, d.model_label, d.confidence, d.margin,
  d.scores, d.decided_by, d.stage, d.low_confidence, d.fallback_used, d.fallback_label, d.fallback_error,
  d.fallback_latency_ms, d.latency_ms, d.tags, ${schemaVersion >= 3 ? "d.conversation, d.sticky" : "NULL AS conversation, NULL AS sticky"},
  ${schemaVersion >= 5 ? "d.dial" : "NULL AS dial"}`;

/** One feedback record's key and value pairs, the arguments of either dialect's JSON object function. */
export const feedbackFields = (schemaVersion: number) => `
      'id', f.id, 'ts', f.ts, 'kind', f.kind, 'humanLabel', f.human_label, 'thumbs', f.thumbs,
      'finalModel', f.final_model, 'tokensIn', f.tokens_in, 'tokensOut', f.tokens_out, 'costUsd', f.cost_usd, 'note', f.note,
      'score', ${schemaVersion >= 4 ? "f.score" : "NULL"}`;

export interface DecisionRow {
  id: number;
  ts: number;
  request_id: string;
  model_version: string;
  text: string | null;
  text_hash: string | null;
  text_length: number | null;
  label: string;
  model_label: string;
  confidence: number | null;
  margin: number | null;
  scores: string;
  decided_by: string;
  stage: string;
  low_confidence: number;
  fallback_used: number;
  fallback_label: string | null;
  fallback_error: string | null;
  fallback_latency_ms: number | null;
  latency_ms: number | null;
  tags: string | null;
  conversation: string | null;
  sticky: number | null;
  dial: string | null;
  feedback: string;
}

export function fromRow(r: DecisionRow): LoggedDecision {
  return {
    id: r.id,
    ts: r.ts,
    requestId: r.request_id,
    modelVersion: r.model_version,
    text: r.text,
    textHash: r.text_hash,
    textLength: r.text_length,
    label: r.label,
    modelLabel: r.model_label,
    // NaN is stored as NULL by SQLite
    confidence: r.confidence ?? Number.NaN,
    margin: r.margin ?? Number.NaN,
    scores: JSON.parse(r.scores) as Record<string, number>,
    decidedBy: r.decided_by as DecidedBy,
    stage: r.stage as Stage,
    lowConfidence: r.low_confidence === 1,
    fallbackUsed: r.fallback_used === 1,
    fallbackLabel: r.fallback_label,
    fallbackError: r.fallback_error,
    fallbackLatencyMs: r.fallback_latency_ms,
    latencyMs: r.latency_ms ?? Number.NaN,
    tags: r.tags === null ? null : (JSON.parse(r.tags) as Record<string, string>),
    conversation: r.conversation,
    sticky: r.sticky === null ? null : r.sticky === 1,
    dial: readDial(r.dial),
    feedback: JSON.parse(r.feedback) as FeedbackRecord[],
  };
}
