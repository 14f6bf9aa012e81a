/**
 * @module
 * Routing evaluation pages: the list of `eval-routing` reports, and one report with its cost–quality
 * curve (the same SVG `--out` writes), the router against the baselines, the fixed policies and a
 * sample of the dial.
 */
import { html, raw } from "hono/html";
import type { CurveReport, RoutingReport } from "../../../outcomes/evaluate.js";
import { reportSvg } from "../../../outcomes/report.js";
import { pct, usd, utc } from "../format.js";
import type { StoredReport } from "../routing.js";
import { notice, type Html } from "./layout.js";

export function reportListBody(dir: string | undefined, reports: Array<{ name: string; mtime: number; report: RoutingReport | null; error?: string }>): Html {
  return html`<div class="page-head"><h1>Routing evaluation</h1><span class="muted">tier routing learned from per-model outcomes (<code>triage eval-routing</code>)</span></div>
${
  dir === undefined
    ? notice("info", html`No reports folder: start with <code>--reports DIR</code> (the folder <code>triage eval-routing --out DIR</code> wrote), or open a report file here.`)
    : reports.length === 0
      ? notice("info", html`No reports in <code>${dir}</code> yet: <code>triage eval-routing … --out ${dir}</code> writes them.`)
      : html`<div class="card"><table class="grid" data-reports>
  <thead><tr><th>Report</th><th>Models</th><th class="num">Test prompts</th><th class="num">APGR</th><th class="num">AIQ</th><th class="num">Saving @95 %</th><th>Written (UTC)</th></tr></thead>
  <tbody>${reports.map(
    (r) =>
      html`<tr><td><a href="/dashboard/routing/${encodeURIComponent(r.name)}">${r.name}</a></td>${
        r.report
          ? html`<td class="small">${r.report.weak} → ${r.report.strong}${r.report.models.length > 2 ? ` (+${r.report.models.length - 2})` : ""}</td><td class="num">${r.report.testPrompts}</td><td class="num">${pct(r.report.router.apgr)}</td><td class="num">${pct(r.report.router.aiq)}</td><td class="num">${pct(r.report.router.saving95)}</td>`
          : html`<td colspan="5" class="small error-text">${r.error}</td>`
      }<td class="small">${utc(r.mtime, false)}</td></tr>`,
  )}</tbody></table></div>`
}
<div class="card open-report"><h2>Open a report file</h2>
  <p class="muted">A <code>.json</code> written by <code>triage eval-routing --out</code>, read in your browser and drawn here (nothing is stored).</p>
  <input type="file" accept=".json,application/json" data-open-report>
  <div data-opened></div>
</div>`;
}

export function reportBody(r: StoredReport): Html {
  return html`<div class="page-head"><h1>${r.name}</h1><span class="muted">routing evaluation</span><div class="actions"><a href="/dashboard/routing">« All reports</a></div></div>
${reportView(r)}`;
}

/** The report itself (also what an opened file renders to). */
export function reportView({ name, report: r }: StoredReport): Html {
  const b = r.baselines;
  const t = r.router.atTarget;
  const row = (label: string, c: CurveReport, highlight = false) =>
    html`<tr${highlight ? raw(' class="current"') : ""}><td>${label}</td><td class="num">${pct(c.apgr)}</td><td class="num">${pct(c.cpt50)}</td><td class="num">${pct(c.cpt80)}</td><td class="num">${pct(c.aiq)}</td><td class="num">${pct(c.saving95)}</td><td class="num">${pct(c.saving98)}</td></tr>`;
  const step = Math.max(1, Math.floor(r.router.points.length / 10));
  const dial = r.router.points.filter((_, i) => i % step === 0 || i === r.router.points.length - 1);
  const pgr = (q: number) => (r.anchors.strongQuality === r.anchors.weakQuality ? null : (q - r.anchors.weakQuality) / (r.anchors.strongQuality - r.anchors.weakQuality));
  return html`<section class="kpis">
  <div class="kpi kpi-good"><div class="kpi-label">Saving @95 %</div><div class="kpi-value">${pct(r.router.saving95)}</div><div class="kpi-note">cost saved at 95 % of ${r.strong}'s quality${
    r.uncertainty
      ? html`; <span data-interval>95 % interval ${pct(r.uncertainty.router.low)} to ${pct(r.uncertainty.router.high)}</span> over ${r.uncertainty.resamples} draws of the test prompts`
      : ""
  }</div></div>
  <div class="kpi"><div class="kpi-label">APGR</div><div class="kpi-value">${pct(r.router.apgr)}</div><div class="kpi-note">quality gap recovered, averaged over strong-call shares</div></div>
  <div class="kpi"><div class="kpi-label">CPT(50 %)</div><div class="kpi-value">${pct(r.router.cpt50)}</div><div class="kpi-note">strong calls needed for half the gap</div></div>
  <div class="kpi"><div class="kpi-label">CPT(80 %)</div><div class="kpi-value">${pct(r.router.cpt80)}</div><div class="kpi-note">strong calls needed for 80 % of the gap</div></div>
  <div class="kpi"><div class="kpi-label">AIQ</div><div class="kpi-value">${pct(r.router.aiq)}</div><div class="kpi-note">area under the cost–quality hull</div></div>
  <div class="kpi"><div class="kpi-label">Prompts</div><div class="kpi-value">${r.testPrompts}</div><div class="kpi-note">test (trained on ${r.trainPrompts})</div></div>
</section>
<section class="charts">
  <figure class="card chart-card report-svg"><figcaption>Cost against quality on the test split</figcaption>${raw(reportSvg(name, r))}</figure>
  <div class="card">
    <h2>Router against the baselines</h2>
    <table class="grid" data-curves><thead><tr><th>Router</th><th class="num">APGR</th><th class="num">CPT(50%)</th><th class="num">CPT(80%)</th><th class="num">AIQ</th><th class="num">@95%</th><th class="num">@98%</th></tr></thead>
    <tbody>${row(`outcome router (${r.router.method})`, r.router, true)}${row("random mix", b.random)}${row("length + keyword rules", b.rules)}${row("single models (zero router)", b.zero)}</tbody></table>
    <h2 class="section-head">Fixed policies</h2>
    <table class="grid"><thead><tr><th>Always</th><th class="num">Quality</th><th class="num">Cost</th></tr></thead>
    <tbody><tr><td>${r.weak} (cheapest)</td><td class="num">${pct(b.cheapest.quality)}</td><td class="num">${usd(b.cheapest.cost)}</td></tr>
    <tr><td>${r.strong} (strongest)</td><td class="num">${pct(b.strongest.quality)}</td><td class="num">${usd(b.strongest.cost)}</td></tr>
    <tr><td>oracle (cheapest correct)</td><td class="num">${pct(b.oracle.quality)}</td><td class="num">${usd(b.oracle.cost)}</td></tr>
    ${r.models.length > 2 ? Object.entries(b.single).map(([m, x]) => html`<tr><td>${m}</td><td class="num">${pct(x.quality)}</td><td class="num">${usd(x.cost)}</td></tr>`) : ""}</tbody></table>
    <p class="small">At 95 % of the strong model's quality the router reaches ${pct(t.quality)} for ${usd(t.cost)}, sending ${pct(t.strongFraction)} of prompts to ${r.strong}.</p>
  </div>
</section>
<div class="card"><h2>The dial</h2><p class="muted small">Tolerance: take the cheapest model predicted within this much of the best. A sample of the sweep.</p>
<table class="grid"><thead><tr><th class="num">Tolerance</th><th class="num">Strong calls</th><th class="num">Quality</th><th class="num">Cost</th><th class="num">PGR</th></tr></thead>
<tbody>${dial.map((p) => html`<tr><td class="num">${p.dial === null ? "" : p.dial.toFixed(3)}</td><td class="num">${pct(p.strongFraction)}</td><td class="num">${pct(p.quality)}</td><td class="num">${usd(p.cost)}</td><td class="num">${pct(pgr(p.quality))}</td></tr>`)}</tbody></table>
${r.notes.length ? html`<h2 class="section-head">Notes</h2><ul>${r.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</div>`;
}
