import { TriageError } from "../common/errors.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "30m", "24h", "7d", "2w", "500ms" -> milliseconds. */
export function parseDurationMs(value: string, where = "duration"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(value);
  if (!m) throw new TriageError(`${where}: expected a duration like 30m, 24h or 7d, got "${value}"`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** A point in time for --since/--until: a duration ago ("24h"), an ISO date, or ms since epoch. */
export function parseTimeBound(value: string, where = "time", now = Date.now()): number {
  if (/^\d{12,}$/.test(value.trim())) return Number(value.trim());
  if (/^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)\s*$/.test(value)) return now - parseDurationMs(value, where);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new TriageError(`${where}: expected a duration ago (24h, 7d), an ISO date or epoch ms, got "${value}"`);
  return t;
}
