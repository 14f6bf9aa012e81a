/**
 * @module
 * The overview page: headline numbers with the rate thresholds flagged, three charts (requests by tier,
 * the rates over time with the 10 % / 20 % lines, spend and savings per day) drawn by the page script
 * from the same JSON the live refresh fetches, and latency percentiles by tier and by stage.
 */
import { html } from "hono/html";
import type { Filters } from "../filters.js";
import { count, ms, pct, usd } from "../format.js";
import { RATE_THRESHOLDS, type LatencyRow, type OverviewData, type Rate } from "../overview-data.js";
import { filterForm } from "./filter-form.js";
import { notice, type Html } from "./layout.js";

const FLAG_TEXT = { good: "under 10 %: fine", watch: "10–20 %: watch it", bad: "over 20 %: the classifier is wrong", none: "no requests" } as const;

export function overviewBody(d: OverviewData & { tags: Record<string, string[]> }, f: Filters, apiUrl: string): Html {
  const t = d.totals;
  const rate = (id: string, title: string, r: Rate, what: string) =>
    html`<div class="kpi kpi-rate flag-${r.flag}" data-kpi="${id}" title="${what}">
      <div class="kpi-label">${title}</div>
      <div class="kpi-value" data-value>${pct(r.value)}</div>
      <div class="kpi-note" data-note>${FLAG_TEXT[r.flag]}</div>
    </div>`;
  const from = d.covered.oldest === null ? "" : new Date(d.covered.oldest).toISOString().slice(0, 16).replace("T", " ");
  const covered =
    d.covered.loading === null && d.covered.oldest !== null && d.since < d.covered.oldest && f.range.key !== "all"
      ? notice(
          "info",
          d.covered.capped
            ? `The overview holds the newest ${count(d.covered.rows)} decisions, from ${from} UTC on; the range starts earlier (the Decisions page reads the whole log).`
            : `The log holds decisions from ${from} UTC on; the range starts earlier.`,
        )
      : "";
  return html`<div class="page-head">
  <h1>Overview</h1>
  <span class="live" data-live="${apiUrl}" title="numbers refresh every 10 s while this tab is visible"><span class="dot"></span> live</span>
</div>
${filterForm("/dashboard", f, d.tags)}
${f.problems.map((p) => notice("warn", p))}
${covered}
${d.covered.loading ? html`<div data-partial>${notice("info", partialText(d.covered.loading, d.covered.oldest))}</div>` : ""}
<section class="kpis">
  <div class="kpi" data-kpi="requests"><div class="kpi-label">Requests</div><div class="kpi-value" data-value>${count(t.requests)}</div><div class="kpi-note" data-note>routing decisions in range</div></div>
  <div class="kpi" data-kpi="spend"><div class="kpi-label">Spend</div><div class="kpi-value" data-value>${usd(t.spendUsd)}</div><div class="kpi-note" data-note>${count(t.pricedRequests)} requests with a known cost</div></div>
  <div class="kpi kpi-good" data-kpi="savings" title="against sending the same requests, with the same tokens, to the most expensive tier">
    <div class="kpi-label">Saved vs top tier</div><div class="kpi-value" data-value>${usd(t.savingsUsd)}</div><div class="kpi-note" data-note>${t.savingsRate === null ? "needs prices and token counts" : `${pct(t.savingsRate)} of ${usd(t.baselineUsd)}`}</div>
  </div>
  ${rate("escalation", "Escalation rate", t.escalation, "answers a quality gate sent to a higher tier")}
  ${rate("fallback", "Fallback rate", t.fallback, "decisions where the LLM classifier was asked")}
  ${rate("lowConfidence", "Low-confidence rate", t.lowConfidence, "decisions below the calibrated margin, or novel queries")}
</section>
<section class="charts">
  <figure class="card chart-card wide"><figcaption>Requests over time, by tier <span class="muted" data-bucket>(per ${bucketName(d.bucketMs)})</span></figcaption><div class="chart" id="chart-requests"></div></figure>
  <figure class="card chart-card"><figcaption>Escalation, fallback and low-confidence rates <span class="muted">(dashed: ${pct(RATE_THRESHOLDS.good, 0)} and ${pct(RATE_THRESHOLDS.bad, 0)})</span></figcaption><div class="chart" id="chart-rates"></div></figure>
  <figure class="card chart-card"><figcaption>Spend and savings per day <span class="muted">(UTC days; baseline: everything to the top tier)</span></figcaption><div class="chart" id="chart-spend"></div></figure>
</section>
<section class="tables">
  <div class="card"><h2>Latency by tier</h2>${latencyTable(d.latency.byTier, "tier")}</div>
  <div class="card"><h2>Latency by stage</h2>${latencyTable(d.latency.byStage, "stage")}</div>
</section>`;
}

/** The first build is still reading: what the numbers cover so far (the page script keeps it current). */
export function partialText(loading: { read: number; of: number }, oldest: number | null): string {
  const from = oldest === null ? "" : `, back to ${new Date(oldest).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `Partial: still reading older decisions (${count(loading.read)} of about ${count(loading.of)} read, newest first${from}). The numbers fill in as the page refreshes.`;
}

export function latencyTable(rows: LatencyRow[], what: string): Html {
  if (rows.length === 0) return html`<p class="muted">No decisions in this range.</p>`;
  return html`<table class="grid" data-latency="${what}">
  <thead><tr><th>${what}</th><th class="num">decisions</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr></thead>
  <tbody>${rows.map((r) => html`<tr><td>${what === "stage" ? html`<span class="tier-dot stage-${r.name}"></span>` : html`<span class="tier-dot" data-tier="${r.name}"></span>`}${r.name}</td><td class="num">${count(r.n)}</td><td class="num">${ms(r.p50)}</td><td class="num">${ms(r.p95)}</td><td class="num">${ms(r.p99)}</td></tr>`)}</tbody>
</table>`;
}

export function bucketName(bucketMs: number): string {
  const m = bucketMs / 60_000;
  if (m < 60) return `${m} min`;
  if (m < 1440) return `${m / 60} h`;
  return m === 1440 ? "day" : `${m / 1440} days`;
}
