import type { LogStats } from "./types.js";

const pct = (v: number | null) => (v === null ? "-" : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | null) => (v === null ? "-" : v.toFixed(2));
const usd = (v: number) => `$${v.toFixed(4)}`;

/** `triage stats` as text: totals, then one line per label, then cost. */
export function formatStats(s: LogStats): string {
  const lines = [
    `decisions: ${s.count}   low-confidence: ${pct(s.lowConfidenceRate)}   fallback: ${pct(s.fallbackRate)}` +
      ` (agrees with local top-1: ${pct(s.fallbackAgreement)}, failed: ${s.fallbackFailures})   escalated: ${pct(s.escalationRate)}`,
    `latency ms: p50 ${ms(s.latencyMs.p50)}  p95 ${ms(s.latencyMs.p95)}`,
    "",
  ];
  const rows = [["label", "count", "share", "p50 ms", "p95 ms"]];
  for (const [label, l] of Object.entries(s.labels)) rows.push([label, String(l.count), pct(l.share), ms(l.latencyMs.p50), ms(l.latencyMs.p95)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
  lines.push("");
  const f = s.feedback;
  lines.push(`feedback: ${f.label} labels, ${f.thumbs} thumbs, ${f.escalated} escalations, ${f.outcome} outcomes`);
  const c = s.cost;
  if (c.requests === 0 && c.unpricedCalls === 0) lines.push("cost: unknown (no feedback with tokens or cost)");
  else {
    lines.push(`cost: ${usd(c.totalUsd)} over ${c.requests} requests${c.unpricedCalls ? ` (${c.unpricedCalls} calls without a price)` : ""}`);
    if (c.baseline)
      lines.push(
        `vs always ${c.baseline.label}: ${usd(c.baseline.baselineUsd)} -> actual ${usd(c.baseline.actualUsd)}, saved ${usd(c.baseline.savingsUsd)}` +
          ` (${pct(c.baseline.savingsRate)}) on ${c.baseline.requests} requests`,
      );
  }
  return lines.join("\n");
}
