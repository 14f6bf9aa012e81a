/**
 * @module
 * Query text as triage compares it.
 */

/**
 * The key under which two queries count as the same: they differ in case and spacing only. The
 * router's repeat cache, retraining's deduplication and the review queue all compare with it.
 */
export function normalizeQuery(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, " ");
}
