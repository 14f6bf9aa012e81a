/**
 * @module
 * The models page: the registry's versions side by side (tier models: cross-validated and held-out
 * metrics, the calibrated threshold and coverage; outcome models: their own table, models-outcomes.ts),
 * the current one marked, promote and roll back for admins; then drift for a tier model: novel-query
 * share over time and the label mix against the training mix.
 */
import { html, raw } from "hono/html";
import type { DriftData } from "../drift-data.js";
import type { Filters } from "../filters.js";
import { count, num, pct, utc } from "../format.js";
import type { KnownVersion, KnownVersions } from "../versions.js";
import { isOutcomeManifest, tierManifest, tierOnly } from "../model-kind.js";
import type { RetrainReport } from "../../../retrain/retrain.js";
import { outcomeVersionsTable } from "./models-outcomes.js";
import { filterForm } from "./filter-form.js";
import { notice, type Html } from "./layout.js";

export interface ModelsView {
  known: KnownVersions;
  isAdmin: boolean;
  drift: DriftData | null;
  filters: Filters;
  tags: Record<string, string[]>;
  /** The model serving now is an outcome model. */
  outcome?: boolean;
}

export function modelsBody(v: ModelsView): Html {
  const { known } = v;
  const current = known.versions.find((x) => x.current);
  const previous = known.versions.find((x) => x.previous);
  const adminNote = v.isAdmin ? "" : "needs an admin key (TRIAGE_ADMIN_KEYS)";
  const disabled = v.isAdmin ? "" : raw(` disabled title="${adminNote}"`);
  // A registry may hold both kinds; a version that cannot be read goes with the kind serving now.
  const outcomeRow = (x: KnownVersion) => (x.manifest ? isOutcomeManifest(x.manifest) : v.outcome === true);
  const tiers = known.versions.filter((x) => !outcomeRow(x));
  const outcomes = known.versions.filter(outcomeRow);
  const promote = (x: KnownVersion) =>
    x.current || !x.manifest
      ? ""
      : html`<button type="button" data-action="promote" data-version="${x.name}" data-confirm="Make ${x.name} the current version?"${disabled}>Promote</button>`;
  return html`<div class="page-head"><h1>Models</h1>
  <span class="muted">${known.registry ? `registry, ${known.versions.length} version${known.versions.length === 1 ? "" : "s"}` : "a single artifact (train with --registry for versions, promote and roll back)"}</span>
  ${
    known.registry
      ? html`<div class="actions">
    <button type="button" class="danger" data-action="rollback" data-confirm="Roll back from ${current?.name ?? "?"} to ${previous?.name ?? "?"}?"${previous ? disabled : raw(" disabled")}>Roll back to ${previous?.name ?? "previous (none)"}</button>
  </div>`
      : ""
  }
</div>
${v.isAdmin || !known.registry ? "" : notice("info", "Promote and roll back need an admin key: you are logged in with a data-plane key.")}
${tiers.length > 0 || outcomes.length === 0 ? tierVersionsTable(tiers, known.registry, promote) : ""}
${outcomes.length > 0 ? outcomeVersionsTable(outcomes, known.registry, promote) : ""}
${driftSection(v)}`;
}

/** The tier models' table: cross-validated and held-out metrics, the calibrated threshold and coverage. */
function tierVersionsTable(versions: readonly KnownVersion[], registry: boolean, promote: (x: KnownVersion) => Html | string): Html {
  return html`<div class="card table-card">
<table class="grid models">
  <thead><tr><th>Version</th><th>Created (UTC)</th><th class="num">Examples</th><th class="num" title="cross-validated accuracy and macro-F1">CV acc. · F1</th><th class="num">Threshold</th><th class="num" title="share of held-out queries above the threshold, and their accuracy">Coverage · acc.</th><th class="num" title="retrain's held-out evaluation">Held-out acc. · F1</th><th class="num" title="out-of-scope queries flagged low-confidence">OOS caught</th><th>Retrain</th>${registry ? html`<th></th>` : ""}</tr></thead>
  <tbody>${versions
    .slice()
    .reverse()
    .map((x) => {
      const m = tierManifest(x.manifest);
      const report = tierReport(x.report);
      const c = report?.candidate ?? null;
      return html`<tr data-version="${x.name}"${x.current ? raw(' class="current"') : ""}>
      <td><strong>${x.name}</strong> ${x.current ? html`<span class="badge badge-current">current</span>` : ""}${x.previous ? html`<span class="badge">previous</span>` : ""}${x.error ? html`<div class="small error-text">${x.error}</div>` : ""}</td>
      <td class="small nowrap">${m ? utc(Date.parse(m.createdAt), false).replace(" UTC", "") : ""}</td>
      <td class="num">${m ? count(m.data.examples) : ""}</td>
      <td class="num">${m ? html`${pct(m.metrics.cv.accuracy)} · ${pct(m.metrics.cv.macroF1)}` : ""}</td>
      <td class="num">${m ? num(m.calibration.threshold) : ""}</td>
      <td class="num">${m ? html`${pct(m.calibration.coverage)} · ${pct(m.calibration.acceptedAccuracy)}` : ""}</td>
      <td class="num" title="${c ? `on ${c.n} held-out examples` : "no retrain report"}">${c ? html`${pct(c.accuracy)} · ${pct(c.macroF1)} <span class="muted small">(n=${c.n})</span>` : html`<span class="muted">–</span>`}</td>
      <td class="num">${c?.outOfScope ? pct(c.outOfScope.recall) : html`<span class="muted">–</span>`}</td>
      <td class="small">${report ? html`<span class="badge ${report.promoted ? "badge-good" : ""}" title="${report.reason}">${report.promoted ? "promoted" : "kept out"}</span>` : ""}</td>
      ${registry ? html`<td>${promote(x)}</td>` : ""}
    </tr>`;
    })}</tbody>
</table>
<p class="muted small">CV: cross-validated on the training data. Threshold: the calibrated margin; coverage: the share of held-out queries above it, and their accuracy. Held-out: the retrain run's evaluation (eval set plus the newest human labels). A server watching the registry reloads within a second of a switch.</p>
</div>`;
}

/** A tier retrain's report (an outcome retrain's has `kind: "outcomes"`). */
function tierReport(r: KnownVersion["report"]): RetrainReport | null {
  return r && !("kind" in r) ? r : null;
}

function driftSection(v: ModelsView): Html {
  if (v.outcome)
    return html`<h2 class="section">Drift</h2>${notice("info", `${tierOnly("Drift (novel queries, the training label mix)")}. Its traffic and spend per model are on the Overview.`)}`;
  const d = v.drift;
  if (!d) return html`<h2 class="section">Drift</h2>${notice("info", "Drift needs the decision log (--log-db).")}`;
  return html`<div class="page-head section-head"><h1>Drift</h1><span class="muted">is today's traffic what the model was trained on?</span></div>
${filterForm("/dashboard/models", v.filters, v.tags)}
${v.filters.problems.map((p) => notice("warn", p))}
${d.unknownVersion > 0 ? notice("info", `${count(d.unknownVersion)} decisions came from versions no longer in the registry; their novelty is not counted.`) : ""}
<section class="charts">
  <figure class="card chart-card"><figcaption>Novel (out-of-distribution) queries <span class="muted">(${pct(d.novelTotal.share)} of ${count(d.novelTotal.judged)} the full model judged)</span></figcaption><div class="chart" id="chart-novel"></div></figure>
  <figure class="card chart-card"><figcaption>Label mix over time <span class="muted">(the model's own top label)</span></figcaption><div class="chart" id="chart-mix"></div></figure>
</section>
<div class="card"><h2>Traffic against the training mix</h2>
<table class="grid" data-mix><thead><tr><th>Label</th><th class="num">Training</th><th class="num">Traffic (range)</th><th class="num">Difference</th></tr></thead>
<tbody>${d.compare.map((r) => {
    // Rounded first, so a tiny negative difference does not print as "-0.0".
    const diff = r.traffic === null ? null : Math.round((r.traffic - r.training) * 1000) / 1000 + 0;
    return html`<tr><td class="nowrap"><span class="tier-dot" data-tier="${r.name}"></span>${r.name}</td><td class="num">${pct(r.training)}</td><td class="num">${pct(r.traffic)}</td><td class="num">${diff === null ? "n/a" : html`<span class="badge ${Math.abs(diff) > 0.1 ? "badge-low" : ""}">${diff >= 0 ? "+" : ""}${(diff * 100).toFixed(1)} pts</span>`}</td></tr>`;
  })}</tbody></table>
<p class="muted small">A query counts as novel when the full model flagged it low-confidence although its margin cleared the threshold: only the novelty check (nearest training example too far) does that.</p>
</div>`;
}
