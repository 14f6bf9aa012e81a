import { TriageError } from "../common/errors.js";
import type { DecisionFilters } from "./types.js";

export interface WhereClause {
  sql: string;
  params: Array<string | number>;
}

/** Turns filters into a WHERE clause over `decisions d` (parameters bound, never interpolated). */
export function buildWhere(f: DecisionFilters, afterId?: number, beforeId?: number): WhereClause {
  const parts: string[] = [];
  const params: Array<string | number> = [];
  const add = (sql: string, ...values: Array<string | number>) => {
    parts.push(sql);
    params.push(...values);
  };
  if (f.since !== undefined) add("d.ts >= ?", checkTime(f.since, "since"));
  if (f.until !== undefined) add("d.ts < ?", checkTime(f.until, "until"));
  if (f.label !== undefined) add("d.label = ?", f.label);
  if (f.requestId !== undefined) add("d.request_id = ?", f.requestId);
  // A range on the indexed column: every string that starts with the prefix sorts inside it.
  if (f.requestIdPrefix !== undefined) add("d.request_id >= ? AND d.request_id < ?", f.requestIdPrefix, `${f.requestIdPrefix}\u{10FFFF}`);
  if (f.lowConfidence !== undefined) add("d.low_confidence = ?", f.lowConfidence ? 1 : 0);
  if (f.fallback !== undefined) add("d.fallback_used = ?", f.fallback ? 1 : 0);
  if (f.hasFeedback !== undefined) parts.push(`${f.hasFeedback ? "" : "NOT "}EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id)`);
  if (f.feedbackKind !== undefined) add("EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = d.request_id AND f.kind = ?)", f.feedbackKind);
  if (afterId !== undefined) add("d.id > ?", afterId);
  if (beforeId !== undefined) add("d.id < ?", beforeId);
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

export function checkLimit(limit: number | undefined): number | undefined {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new TriageError(`limit: expected a non-negative integer, got ${limit}`);
  return limit;
}

function checkTime(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new TriageError(`${name}: expected ms since epoch, got ${value}`);
  return value;
}
