/**
 * @module
 * Numbers and times as the dashboard prints them: money, shares, latencies and UTC times, each in one
 * consistent style ("n/a" for what is unknown).
 */

export const NA = "n/a";

export function usd(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return NA;
  const a = Math.abs(v);
  if (a === 0) return "$0";
  if (a < 0.01) return `$${v.toPrecision(2)}`;
  if (a < 1000) return `$${v.toFixed(2)}`;
  return `$${Math.round(v).toLocaleString("en-US")}`;
}

export function pct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return NA;
  return `${(v * 100).toFixed(digits)}%`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return NA;
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  if (v < 10_000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(1)} s`;
}

export function count(v: number): string {
  return v.toLocaleString("en-US");
}

export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return NA;
  return v.toFixed(digits);
}

/** "2025-01-31 14:05:09 UTC" */
export function utc(ts: number | null | undefined, withSeconds = true): string {
  if (ts === null || ts === undefined || !Number.isFinite(ts)) return NA;
  const s = new Date(ts).toISOString().replace("T", " ");
  return `${withSeconds ? s.slice(0, 19) : s.slice(0, 16)} UTC`;
}
