/**
 * @module
 * The Models page's table for outcome models (`train --outcomes`): per version the models it routes
 * among (cheapest first, with their prices), the strongest one, the default dial, the estimator that
 * cross-validation picked with its out-of-fold AIQ, what the default dial gave out of fold (quality and
 * saving against always calling the strongest model), and the outcome retrain report when there is one.
 */
import { html, raw } from "hono/html";
import type { OutcomeManifest } from "../../../outcomes/artifact.js";
import { describeDial, dialPoint } from "../../../outcomes/dial.js";
import type { OutcomeMetrics, OutcomeRetrainReport } from "../../../outcomes/retrain.js";
import { count, num, pct, usd, utc } from "../format.js";
import { isOutcomeManifest } from "../model-kind.js";
import type { KnownVersion } from "../versions.js";
import type { Html } from "./layout.js";

/** The report when it is an outcome retrain's. */
export function outcomeReport(r: KnownVersion["report"]): OutcomeRetrainReport | null {
  return r && "kind" in r && r.kind === "outcomes" ? r : null;
}

export function outcomeVersionsTable(versions: readonly KnownVersion[], registry: boolean, promote: (x: KnownVersion) => Html | string): Html {
  return html`<div class="card table-card" data-kind="outcomes">
<h2>Outcome models</h2>
<table class="grid models">
  <thead><tr><th>Version</th><th>Created (UTC)</th><th class="num">Prompts</th><th>Models, cheapest first</th><th>Strongest</th><th>Default dial</th><th title="picked by cross-validation">Estimator</th><th class="num" title="out-of-fold area under the quality-cost curve">CV AIQ</th><th class="num" title="out of fold, at the default dial, against always calling the strongest model">At the dial:<br>quality · saving</th><th>Retrain</th>${registry ? html`<th></th>` : ""}</tr></thead>
  <tbody>${versions
    .slice()
    .reverse()
    .map((x) => {
      const m = isOutcomeManifest(x.manifest) ? x.manifest : null;
      return html`<tr data-version="${x.name}"${x.current ? raw(' class="current"') : ""}>
      <td><strong>${x.name}</strong> ${x.current ? html`<span class="badge badge-current">current</span>` : ""}${x.previous ? html`<span class="badge">previous</span>` : ""}${x.error ? html`<div class="small error-text">${x.error}</div>` : ""}</td>
      ${m ? checkedCells(m) : html`<td colspan="8"></td>`}
      <td class="small">${reportCell(outcomeReport(x.report))}</td>
      ${registry ? html`<td>${promote(x)}</td>` : ""}
    </tr>`;
    })}</tbody>
</table>
<p class="muted small">An outcome model predicts each model's quality per query and calls the cheapest one the dial accepts: a quality floor or a cost ceiling, relative to always calling the strongest model. AIQ and the dial's point are cross-validated on the training data (out of fold); a retrain measures candidate and current version on held-out outcomes. A server watching the registry reloads within a second of a switch.</p>
</div>`;
}

/** A manifest listed from a shared registry is not checked field by field: one that lacks a field says so in its row. */
function checkedCells(m: OutcomeManifest): Html {
  try {
    return cells(m);
  } catch (err) {
    return html`<td colspan="8" class="small error-text">cannot show this version's manifest: ${(err as Error).message}</td>`;
  }
}

function cells(m: OutcomeManifest): Html {
  const o = m.outcomes;
  const at = dialPoint(o.dial.calibration, o.dial.default);
  const trials = o.cv.trials.map((t) => `${t.method}: AIQ ${num(t.aiq)}`).join("; ");
  return html`<td class="small nowrap">${utc(Date.parse(m.createdAt), false).replace(" UTC", "")}</td>
      <td class="num">${count(m.data.prompts)}</td>
      <td class="small" data-models>${o.byCost.map((i) => html`<div class="nowrap" data-model="${o.models[i]}"><span class="tier-dot" data-tier="${o.models[i]}"></span>${o.models[i]} <span class="muted">${priceOf(m, i)}</span></div>`)}</td>
      <td data-strongest>${o.models[o.strong]}</td>
      <td class="nowrap" data-dial>${describeDial(o.dial.default)}</td>
      <td class="small" title="${trials}">${o.estimator.method} <span class="muted">(${o.cv.folds} folds)</span></td>
      <td class="num">${num(o.cv.aiq)}</td>
      <td class="num">${pct(at.quality)} · ${pct(1 - at.cost)}</td>`;
}

/** The price list's price per 1M tokens when training had one, else the mean cost per prompt in the training data. */
function priceOf(m: OutcomeManifest, i: number): string {
  const p = m.outcomes.prices?.models.find((x) => x.name === m.outcomes.models[i]);
  if (p) return `$${p.input}/$${p.output} per 1M tokens`;
  return `${usd(m.outcomes.meanCost[i])} a prompt`;
}

function reportCell(r: OutcomeRetrainReport | null): Html | string {
  if (!r) return "";
  const figures = (label: string, x: OutcomeMetrics | null) =>
    x ? html`<div>${label} ${x.registryVersion}:</div><div class="nowrap">AIQ ${num(x.aiq)} · saving ${pct(x.atDial.saving)}</div>` : "";
  return html`<span class="badge ${r.promoted ? "badge-good" : ""}" title="${r.reason}">${r.promoted ? "promoted" : "kept out"}</span>
    <div class="muted" data-report>${figures("candidate", r.candidate)}${figures("current", r.current)}<div>${r.reason}</div></div>`;
}
