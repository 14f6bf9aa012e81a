/**
 * @module
 * One decision explained: the query, the scores per label, the margin against the calibrated threshold
 * of the model that decided, its nearest training examples, the LLM fallback's answer, quality gates and
 * escalations, the final model with its tokens and cost, and what people said about it.
 */
import { html, raw } from "hono/html";
import type { PriceTable } from "../../../config/price.js";
import { callCostUsd } from "../../../config/price.js";
import type { LoggedDecision } from "../../../store/index.js";
import { answeredBy, costOf, reasonOf, shownText } from "../describe.js";
import type { NearestExamples } from "../explain.js";
import { count, ms, num, pct, usd, utc } from "../format.js";
import type { KnownVersion } from "../versions.js";
import { feedbackBadges } from "./decisions.js";
import { notice, type Html } from "./layout.js";
import { isOutcomeManifest, tierManifest, type AnyManifest } from "../model-kind.js";
import { outcomeChoiceView } from "./outcome-decision.js";

export interface DecisionView {
  d: LoggedDecision;
  /** The registry version that decided, when the dashboard knows it. */
  version: KnownVersion | null;
  nearest: NearestExamples | { unavailable: string } | null;
  prices: PriceTable;
  /** The serving model's manifest: the tier's model when the deciding version is gone. */
  current: AnyManifest | null;
}

export function decisionBody(v: DecisionView): Html {
  const { d } = v;
  const manifest = v.version?.manifest ?? null;
  const tiersFrom = manifest ?? v.current;
  const t = shownText(d);
  const final = answeredBy(d, tiersFrom);
  const escalations = d.feedback.filter((f) => f.kind === "escalated");
  const calls = d.feedback.filter((f) => f.costUsd !== null || f.tokensIn !== null || f.tokensOut !== null);
  const people = d.feedback.filter((f) => f.kind === "label" || f.kind === "thumbs" || f.kind === "score");
  // An outcome model's decision (by its own version, else by the model serving now).
  const outcome = isOutcomeManifest(manifest) || (manifest === null && isOutcomeManifest(v.current));
  return html`<div class="page-head"><h1>Decision</h1><span class="mono muted small">${d.requestId}</span>
  <div class="actions"><a href="/dashboard/decisions">« All decisions</a></div></div>
<section class="explain">
  <div class="card wide">
    <div class="query${t.kind === "text" ? "" : " hash"}" data-query>${t.text}</div>
    ${t.cut ? html`<p class="muted small">The log keeps the first ${count(d.text!.length)} of ${count(d.textLength!)} characters.</p>` : ""}
    <p class="verdict ${d.lowConfidence ? "low" : "ok"}" data-verdict>Routed to <span class="tier-dot" data-tier="${d.label}"></span>${d.label}${final && !(outcome && final === d.label) ? html` → ${final}` : ""}: ${reasonOf(d, manifest)}</p>
    <dl class="facts">
      <dt>Time</dt><dd>${utc(d.ts)}</dd>
      <dt>Model version</dt><dd>${v.version ? html`${v.version.name}${v.version.current ? html` <span class="badge badge-current">current</span>` : ""} ` : ""}<span class="mono small">${d.modelVersion}</span></dd>
      <dt>Stage</dt><dd>${d.stage} (${stageText(d.stage)}), ${ms(d.latencyMs)}</dd>
      ${outcome ? "" : html`<dt>Model's own top label</dt><dd>${d.modelLabel}${d.modelLabel !== d.label ? html` <span class="muted">(the policy changed it to ${d.label})</span>` : ""}</dd>`}
      <dt>Conversation</dt><dd data-conversation>${d.conversation === null ? html`<span class="muted">none</span>` : html`<span class="mono small">${d.conversation}</span> · ${d.sticky ? "model kept from an earlier turn" : "routed afresh"}`}</dd>
      <dt>Caller tags</dt><dd>${d.tags ? Object.entries(d.tags).map(([k, x]) => html`<span class="badge">${k}=${x}</span>`) : html`<span class="muted">none</span>`}</dd>
    </dl>
  </div>
  ${
    outcome
      ? html`<div class="card"><h2>Predicted quality per model</h2>${scoreBars(d)}</div>
  <div class="card"><h2>The outcome model's choice</h2>${outcomeChoiceView(d, isOutcomeManifest(manifest) ? manifest : null)}</div>`
      : html`<div class="card"><h2>Scores per label</h2>${scoreBars(d)}</div>
  <div class="card"><h2>Margin against the calibrated threshold</h2>${marginView(d, tierManifest(manifest))}</div>`
  }
  <div class="card wide"><h2>Nearest training examples</h2>${nearestView(v.nearest)}</div>
  ${
    outcome
      ? ""
      : html`<div class="card"><h2>LLM fallback</h2>${
          d.fallbackUsed
            ? html`<dl class="facts">
      <dt>Answer</dt><dd>${d.fallbackLabel ?? html`<span class="badge badge-bad">none</span>`}${d.fallbackLabel && d.fallbackLabel !== d.modelLabel ? html` <span class="muted">(disagrees with the model's ${d.modelLabel})</span>` : ""}</dd>
      <dt>Latency</dt><dd>${ms(d.fallbackLatencyMs)}</dd>
      ${d.fallbackError ? html`<dt>Error</dt><dd>${d.fallbackError}</dd>` : ""}
    </dl>`
            : html`<p class="muted">Not asked${d.lowConfidence ? " (the policy is not fallback, or none is configured)" : " (the decision was confident)"}.</p>`
        }</div>`
  }
  <div class="card"><h2>Quality gates and escalations</h2>${
    escalations.length
      ? html`<ul>${escalations.map((f) => html`<li>${utc(f.ts)}: ${f.note ?? "escalated"}${f.finalModel ? html` → <strong>${f.finalModel}</strong>` : ""}</li>`)}</ul>`
      : html`<p class="muted">No gate failed${calls.length ? "" : " (or the answer did not go through the proxy)"}.</p>`
  }</div>
  <div class="card"><h2>Final model, tokens and cost</h2>${
    calls.length
      ? html`<table class="grid"><thead><tr><th>Model</th><th class="num">Tokens in</th><th class="num">Tokens out</th><th class="num">Cost</th><th>Note</th></tr></thead><tbody>${calls.map(
          (f) => {
            const price = (f.finalModel !== null ? v.prices[f.finalModel] : undefined) ?? v.prices[d.label];
            const c = callCostUsd({ costUsd: f.costUsd ?? undefined, tokensIn: f.tokensIn ?? undefined, tokensOut: f.tokensOut ?? undefined }, price);
            return html`<tr><td>${f.finalModel ?? "?"}</td><td class="num">${f.tokensIn ?? ""}</td><td class="num">${f.tokensOut ?? ""}</td><td class="num">${usd(c)}</td><td class="small muted">${f.note ?? ""}</td></tr>`;
          },
        )}</tbody></table><p>Total <strong>${usd(costOf(d, v.prices))}</strong>${final ? html`; answered by <strong>${final}</strong>` : ""}.</p>`
      : html`<p class="muted">No call recorded (routing only, or the answer went elsewhere).${final && !outcome ? html` The tier's model is ${final}.` : ""}</p>`
  }</div>
  <div class="card"><h2>Feedback from people</h2>${
    people.length
      ? html`<p>${feedbackBadges({ ...d, feedback: people })}</p>`
      : outcome
        ? html`<p class="muted">None yet. Thumbs or a score for the model that answered: POST /v1/feedback, or triage feedback.</p>`
        : html`<p class="muted">None yet. <a href="/dashboard/review">Label queries in Review</a>.</p>`
  }</div>
</section>`;
}

function stageText(stage: string): string {
  return { rule: "a config rule", cache: "a repeat, its embedding cached", static: "the distilled fast path", full: "the full encoder" }[stage] ?? stage;
}

/** Horizontal bars, one per label, the routed label highlighted. */
function scoreBars(d: LoggedDecision): Html {
  const entries = Object.entries(d.scores);
  if (entries.length === 0) return html`<p class="muted">No scores logged.</p>`;
  const W = 520;
  const rowH = 26;
  const labelW = 130;
  const barW = W - labelW - 70;
  const rows = entries.map(([label, s], i) => {
    const y = i * rowH + 4;
    const w = Math.max(1, Math.round(barW * Math.min(1, Math.max(0, s))));
    const chosen = label === d.label;
    return html`<g data-score="${label}">
      <text x="${labelW - 8}" y="${y + 15}" text-anchor="end"${chosen ? raw(' font-weight="700"') : ""}>${label}</text>
      <rect x="${labelW}" y="${y + 3}" width="${barW}" height="16" rx="3" fill="#eef0f3"></rect>
      <rect x="${labelW}" y="${y + 3}" width="${w}" height="16" rx="3" fill="${chosen ? "#2f5bd3" : label === d.modelLabel ? "#8aa6ea" : "#b7bec8"}"></rect>
      <text x="${labelW + barW + 8}" y="${y + 15}">${s.toFixed(3)}</text>
    </g>`;
  });
  return html`<svg class="bars" width="100%" viewBox="0 0 ${W} ${entries.length * rowH + 8}" role="img" aria-label="scores per label">${rows}</svg>`;
}

function marginView(d: LoggedDecision, manifest: ReturnType<typeof tierManifest>): Html {
  const c = manifest?.calibration;
  if (d.decidedBy === "rule") return html`<p class="muted">A rule decided: no margin was needed.</p>`;
  if (!c)
    return html`<p>Margin <strong>${num(d.margin)}</strong>.</p><p class="muted">The model that decided (${d.modelVersion}) is not in this registry any more, so its threshold is unknown.</p>`;
  const W = 520;
  const x = (v: number) => 10 + Math.round((W - 20) * Math.min(1, Math.max(0, v)));
  const below = d.margin < c.threshold;
  return html`<svg class="bars" width="100%" viewBox="0 0 ${W} 58" role="img" aria-label="margin against threshold">
    <rect x="10" y="18" width="${W - 20}" height="12" rx="6" fill="#eef0f3"></rect>
    <rect x="10" y="18" width="${x(c.threshold) - 10}" height="12" rx="6" fill="#fdecea"></rect>
    <line x1="${x(c.threshold)}" y1="10" x2="${x(c.threshold)}" y2="38" stroke="#c4281c" stroke-width="2" stroke-dasharray="4 3"></line>
    <text x="${x(c.threshold)}" y="52" text-anchor="middle" fill="#c4281c">threshold ${c.threshold.toFixed(3)}</text>
    <circle cx="${x(d.margin)}" cy="24" r="7" fill="${below ? "#e8910c" : "#22a06b"}" stroke="#fff" stroke-width="2"></circle>
    <text x="${x(d.margin)}" y="10" text-anchor="middle">margin ${num(d.margin)}</text>
  </svg>
  <p>${
    d.stage === "static"
      ? "The fast path decided with its own cut (from the same calibration), so this threshold is the full encoder's."
      : below
        ? html`The margin is <strong>below</strong> the threshold: the low-confidence policy applied.`
        : d.lowConfidence
          ? html`The margin clears the threshold, but the query is <strong>novel</strong>: its nearest training example is less similar than ${num(c.minSimilarity ?? null)}.`
          : "The margin clears the threshold: a confident decision."
  }</p>
  <p class="muted small">Calibrated on held-out folds for ${pct(c.targetAccuracy, 0)} accuracy: ${pct(c.coverage)} of queries clear it, ${pct(c.acceptedAccuracy)} of those right.</p>`;
}

function nearestView(n: DecisionView["nearest"]): Html {
  if (n === null) return html`<p class="muted">No model given (triage dashboard --model DIR shows them).</p>`;
  if ("unavailable" in n) return html`<p class="muted">${n.unavailable}.</p>`;
  return html`${n.exact ? "" : notice("info", `The version that decided is gone from the registry; these are ${n.version}'s examples.`)}
<table class="grid" data-nearest><thead><tr><th class="num">Similarity</th><th>Label</th><th>Training example</th></tr></thead>
<tbody>${n.examples.map((e) => html`<tr><td class="num">${e.similarity.toFixed(3)}${n.minSimilarity !== null && e === n.examples[0] && e.similarity < n.minSimilarity ? html` <span class="badge badge-low">novel</span>` : ""}</td><td class="nowrap"><span class="tier-dot" data-tier="${e.label}"></span>${e.label}</td><td>${e.text}</td></tr>`)}</tbody></table>
<p class="muted small">From ${n.version}'s index${n.minSimilarity !== null ? `; below ${n.minSimilarity.toFixed(3)} for the nearest one, a query counts as novel` : ""}.</p>`;
}
