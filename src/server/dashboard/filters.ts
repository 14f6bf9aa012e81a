/**
 * @module
 * The time range and caller-tag filter shared by the dashboard's pages, from URL query parameters:
 * `range` (1h, 24h, 7d, 30d, all, custom with `since`/`until` in UTC) and `tag` (`key=value`). A bad value
 * becomes a one-line message naming the parameter, and the page falls back to its default.
 */
import { TriageError } from "../../common/errors.js";
import type { TagFilter } from "./overview-data.js";

export const RANGES = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
export type RangeKey = keyof typeof RANGES | "all" | "custom";

export interface RangeChoice {
  key: RangeKey;
  since: number;
  until: number;
}

export interface Filters {
  range: RangeChoice;
  tag?: TagFilter;
  /** Problems with the given parameters (each names its parameter); the defaults were used instead. */
  problems: string[];
}

/** A UTC time from a form: ISO with or without a zone (none: UTC), as datetime-local inputs send it. */
export function parseUtc(value: string, param: string): number {
  const v = value.trim();
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(v) ? v : `${v}Z`;
  const t = Date.parse(zoned);
  if (Number.isNaN(t)) throw new TriageError(`${param}: expected a date and time like 2025-01-31T14:05 (UTC), got "${value.slice(0, 60)}"`);
  return t;
}

export function parseTag(value: string | undefined): TagFilter | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const eq = value.indexOf("=");
  const key = value.slice(0, eq).trim();
  const tagValue = value.slice(eq + 1).trim();
  if (eq <= 0 || key === "" || tagValue === "" || !/^[\w.-]{1,64}$/.test(key)) throw new TriageError(`tag: expected key=value (e.g. feature=search), got "${value.slice(0, 80)}"`);
  return { key, value: tagValue };
}

/**
 * `oldest`: the oldest decision known, for range "all". `fallback` is the range used when none is given
 * or the given one is bad.
 */
export function parseFilters(query: Record<string, string | undefined>, now: number, oldest: number | null, fallback: RangeKey = "24h"): Filters {
  const problems: string[] = [];
  const preset = (key: RangeKey): RangeChoice =>
    key === "all" ? { key, since: oldest ?? now - RANGES["24h"], until: now + 1 } : { key, since: now - RANGES[key as keyof typeof RANGES], until: now + 1 };
  let range = preset(fallback);
  const key = query.range ?? (query.since || query.until ? "custom" : undefined);
  if (key === "custom") {
    try {
      const since = query.since ? parseUtc(query.since, "since") : (oldest ?? now - RANGES["24h"]);
      const until = query.until ? parseUtc(query.until, "until") : now + 1;
      if (until <= since) throw new TriageError("until: must be after since");
      range = { key: "custom", since, until };
    } catch (err) {
      problems.push((err as Error).message);
    }
  } else if (key !== undefined) {
    if (key === "all" || key in RANGES) range = preset(key as RangeKey);
    else problems.push(`range: expected one of 1h, 24h, 7d, 30d, all, custom; got "${key.slice(0, 40)}"`);
  }
  let tag: TagFilter | undefined;
  try {
    tag = parseTag(query.tag);
  } catch (err) {
    problems.push((err as Error).message);
  }
  return { range, ...(tag ? { tag } : {}), problems };
}

/** The query string that reproduces these filters (for links and the live refresh). */
export function filterQuery(f: Filters): string {
  const p = new URLSearchParams();
  p.set("range", f.range.key);
  if (f.range.key === "custom") {
    p.set("since", new Date(f.range.since).toISOString().slice(0, 16));
    p.set("until", new Date(f.range.until).toISOString().slice(0, 16));
  }
  if (f.tag) p.set("tag", `${f.tag.key}=${f.tag.value}`);
  return p.toString();
}
