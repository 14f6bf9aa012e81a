/**
 * @module Active labelling (retrain/review/): the queue of logged decisions most worth a human label, and the
 * keyboard session that records labels as feedback.
 */

import { dot } from "../../common/vector.js";
import type { Encoder } from "../../encoders/types.js";
import { normalizeQuery } from "../../common/text.js";
import type { DecidedBy, Stage } from "../../router/types.js";
import type { DecisionFilters, LoggedDecision } from "../../store/types.js";

/** One query worth a person's label, with why it ranks where it does. */
export interface ReviewItem {
  requestId: string;
  text: string;
  /** The label it was routed to (after the low-confidence policy). */
  label: string;
  /** The model's own top label. */
  modelLabel: string;
  margin: number;
  lowConfidence: boolean;
  stage: Stage;
  fallbackLabel: string | null;
  fallbackError: string | null;
  decidedBy: DecidedBy;
  score: number;
  reasons: string[];
  /** Request ids of near-duplicates collapsed into this item (not shown separately). */
  duplicates: string[];
}

export interface ReviewQueueOptions {
  /** Embeds texts for near-duplicate collapsing (use the model's encoder, ideally cached). */
  encoder: Encoder;
  /** Training examples per label (the model's manifest): rare labels teach more. */
  perLabel: Record<string, number>;
  /** Items to return (default 50). */
  limit?: number;
  /** Cosine similarity above which two queries count as near-duplicates (default 0.95). */
  similarity?: number;
  filters?: Omit<DecisionFilters, "limit" | "order">;
}

/** Something that yields logged decisions (a decision log of either store). */
export interface DecisionSource {
  rows(filters?: DecisionFilters): Iterable<LoggedDecision> | AsyncIterable<LoggedDecision>;
}

/**
 * The active-learning queue: logged queries without a human label, ranked by how much a label would
 * teach — low margin, fallback disagreement (or failure), escalations, rare labels — with exact and
 * near-duplicates (embedding similarity > threshold) collapsed into the best-ranked one.
 */
export async function buildReviewQueue(log: DecisionSource, options: ReviewQueueOptions): Promise<ReviewItem[]> {
  const limit = options.limit ?? 50;
  const threshold = options.similarity ?? 0.95;
  const maxCount = Math.max(1, ...Object.values(options.perLabel));
  const byText = new Map<string, ReviewItem>();
  for await (const d of log.rows(options.filters ?? {})) {
    if (d.text === null || d.feedback.some((f) => f.kind === "label")) continue;
    const item = score(d, d.text, options.perLabel, maxCount);
    const key = normalizeQuery(d.text);
    const old = byText.get(key);
    if (!old) byText.set(key, item);
    else if (item.score > old.score) byText.set(key, { ...item, duplicates: [...old.duplicates, old.requestId] });
    else old.duplicates.push(item.requestId);
  }
  const ranked = [...byText.values()].sort((a, b) => b.score - a.score || a.requestId.localeCompare(b.requestId));
  // Only the head of the ranking can make the cut: embed a bounded window, not the whole log.
  const window = ranked.slice(0, Math.max(limit * 5, 200));
  const vectors = await options.encoder.embed(window.map((i) => i.text));
  const kept: { item: ReviewItem; v: Float32Array }[] = [];
  for (let i = 0; i < window.length && kept.length < limit; i++) {
    const twin = kept.find((k) => dot(k.v, vectors[i]) > threshold);
    if (twin) twin.item.duplicates.push(window[i].requestId, ...window[i].duplicates);
    else kept.push({ item: window[i], v: vectors[i] });
  }
  return kept.map((k) => k.item);
}

function score(d: LoggedDecision, text: string, perLabel: Record<string, number>, maxCount: number): ReviewItem {
  const reasons: string[] = [];
  const uncertainty = 1 - Math.min(1, Math.max(0, d.margin));
  let s = uncertainty;
  if (d.lowConfidence) reasons.push(`low confidence (margin ${d.margin.toFixed(3)})`);
  if (d.fallbackLabel !== null && d.fallbackLabel !== d.modelLabel) {
    s += 0.5;
    reasons.push(`fallback said ${d.fallbackLabel}, model ${d.modelLabel}`);
  } else if (d.fallbackUsed && d.fallbackLabel === null) {
    s += 0.25;
    reasons.push("fallback failed");
  }
  if (d.feedback.some((f) => f.kind === "escalated")) {
    s += 0.5;
    reasons.push("escalated by a quality gate");
  }
  if (d.feedback.some((f) => f.kind === "thumbs" && f.thumbs === -1)) {
    s += 0.25;
    reasons.push("thumbs down");
  }
  const rarity = 1 - (perLabel[d.modelLabel] ?? 0) / maxCount;
  if (rarity > 0.5) reasons.push(`rare label ${d.modelLabel}`);
  s += 0.5 * rarity;
  return {
    requestId: d.requestId,
    text,
    label: d.label,
    modelLabel: d.modelLabel,
    margin: d.margin,
    lowConfidence: d.lowConfidence,
    stage: d.stage,
    fallbackLabel: d.fallbackLabel,
    fallbackError: d.fallbackError,
    decidedBy: d.decidedBy,
    score: Math.round(s * 1e4) / 1e4,
    reasons,
    duplicates: [],
  };
}
