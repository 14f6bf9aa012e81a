/**
 * @module
 * An outcome model's decision explained: the chosen model with its predicted quality and estimated cost,
 * the dial it was made at, why that model and not the runner-up, and where a failed quality gate would
 * escalate. The log keeps the predicted quality of every model (the decision's scores) and, from schema 5,
 * the dial; the rest is recomputed from the version that decided, as the router computed it
 * (explainChoice), so it needs that version's manifest. Rows logged without a dial are explained at the
 * version's default dial, which is not shown as theirs.
 */
import { html } from "hono/html";
import { describeDial, settingFor } from "../../../outcomes/dial.js";
import type { OutcomeManifest } from "../../../outcomes/artifact.js";
import { explainChoice } from "../../../outcomes/explain.js";
import type { OutcomeChoice } from "../../../router/types.js";
import type { LoggedDecision, LoggedDial } from "../../../store/index.js";
import { num, usd } from "../format.js";
import type { Html } from "./layout.js";

/** The choice as the deciding version made it, or null when the logged scores do not fit its models. */
export function outcomeChoice(d: LoggedDecision, m: OutcomeManifest): OutcomeChoice | null {
  const o = m.outcomes;
  const chosen = o.models.indexOf(d.label);
  const pred = o.models.map((name) => d.scores[name]);
  if (chosen < 0 || pred.some((p) => typeof p !== "number")) return null;
  // Prices count tokens by length only: a log that keeps no text still knows its length.
  const text = d.text !== null && d.textLength === d.text.length ? d.text : d.textLength !== null ? " ".repeat(d.textLength) : null;
  const ctx = { models: o.models, byCost: o.byCost, meanCost: o.meanCost, ...(text !== null && o.prices ? { prices: o.prices } : {}) };
  // Without a logged dial, the version's default only fills the explanation's shape and is not shown.
  const dial = d.dial ?? { ...o.dial.default, rule: o.dial.calibration.rule, setting: settingFor(o.dial.calibration, o.dial.default), from: "default" as const };
  return explainChoice(ctx, pred, chosen, text ?? "", dial);
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** "quality floor 0.95, set by the request", with the choice rule's setting it stood for. */
function dialView(dial: LoggedDial): Html {
  const who = dial.from === "request" ? "set by the request" : "the deployment's default";
  return html`<dt>Dial</dt><dd data-dial>${describeDial(dial)}, ${who} <span class="muted small">(the choice rule: ${dial.rule} ${r3(dial.setting)})</span></dd>`;
}

export function outcomeChoiceView(d: LoggedDecision, m: OutcomeManifest | null): Html {
  const c = m ? outcomeChoice(d, m) : null;
  const strongest = m ? m.outcomes.models[m.outcomes.strong] : null;
  const costNote = m?.outcomes.prices && (d.text !== null || d.textLength !== null) ? "the query's tokens at the model's price" : "the model's mean cost per prompt in training";
  return html`<dl class="facts" data-outcome>
    <dt>Chosen model</dt><dd><strong data-chosen>${d.label}</strong>${d.sticky ? html` <span class="badge">kept for the conversation</span>` : ""}</dd>
    ${d.dial ? dialView(d.dial) : ""}
    <dt>Expected quality</dt><dd>${num(d.confidence)}${strongest ? html` <span class="muted small">(the strongest model, ${strongest}: ${num(d.scores[strongest] ?? null)})</span>` : ""}</dd>
    ${
      c
        ? html`<dt>Expected cost</dt><dd>${usd(c.expectedCostUsd)} <span class="muted small">(${costNote})</span></dd>
    <dt>Runner-up</dt><dd>${c.runnerUp ? html`<span data-runner-up>${c.runnerUp.model}</span>: quality ${num(c.runnerUp.expectedQuality)}, ${usd(c.runnerUp.expectedCostUsd)}` : html`<span class="muted">none</span>`}</dd>
    ${d.dial ? html`<dt>Why</dt><dd data-why>${c.why}</dd>` : ""}
    <dt>A failed gate escalates to</dt><dd>${c.escalation.length ? c.escalation.join(" → ") : html`<span class="muted">nothing better predicted</span>`}</dd>`
        : html`<dt>Expected cost</dt><dd class="muted">unknown: the version that decided (${d.modelVersion}) is not in this registry any more</dd>`
    }
  </dl>
  <p class="muted small">Quality is predicted per model for this query (the bars); the router takes the cheapest model that the dial accepts.${d.dial ? "" : " The request's dial setting is not logged."}</p>`;
}
