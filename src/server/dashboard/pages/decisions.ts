/**
 * @module
 * The decisions table: searchable (text, request id or text hash), filtered by label, stage, how it was
 * decided, confidence, feedback, caller tag and time; paged newest first by id cursor, each page answered
 * within a time budget (a sparse search says how far it got and continues from there).
 */
import { html, raw } from "hono/html";
import type { PriceTable } from "../../../config/price.js";
import { TriageError } from "../../../common/errors.js";
import type { DecisionPage, DecisionPageQuery } from "../../../store/dashboard-queries.js";
import type { FeedbackKind, LoggedDecision } from "../../../store/index.js";
import { answeredBy, costOf, reasonOf, shownText } from "../describe.js";
import { parseTag, parseUtc } from "../filters.js";
import { count, ms, num, usd, utc } from "../format.js";
import { notice, type Html } from "./layout.js";
import type { AnyManifest } from "../model-kind.js";

export const PAGE_SIZE = 50;
const FEEDBACK = ["any", "none", "label", "thumbs", "escalated", "outcome", "score"] as const;
const STAGE_NAMES = ["rule", "cache", "static", "full"];
const DECIDED_BY = ["rule", "model", "escalate", "abstain", "fallback", "fallback-failed"];

export interface DecisionsParams {
  query: DecisionPageQuery;
  raw: Record<string, string>;
  problems: string[];
}

/** URL parameters to a page query; a bad one is named in `problems` and left out. */
export function parseDecisionParams(q: Record<string, string | undefined>): DecisionsParams {
  const problems: string[] = [];
  const query: DecisionPageQuery = { limit: PAGE_SIZE };
  const raw: Record<string, string> = {};
  const take = (name: string, apply: (v: string) => void) => {
    const v = q[name]?.trim();
    if (!v) return;
    try {
      apply(v);
      raw[name] = v;
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  const oneOf = (name: string, allowed: readonly string[], v: string) => {
    if (!allowed.includes(v)) throw new TriageError(`${name}: expected one of ${allowed.join(", ")}; got "${v.slice(0, 40)}"`);
    return v;
  };
  take("q", (v) => (query.search = v.slice(0, 200)));
  take("label", (v) => (query.label = v));
  take("stage", (v) => (query.stage = oneOf("stage", STAGE_NAMES, v)));
  take("decidedBy", (v) => (query.decidedBy = oneOf("decidedBy", DECIDED_BY, v)));
  take("confidence", (v) => (query.lowConfidence = oneOf("confidence", ["low", "high"], v) === "low"));
  take("feedback", (v) => (query.feedback = oneOf("feedback", FEEDBACK, v) as DecisionPageQuery["feedback"] & FeedbackKind));
  take("tag", (v) => (query.tag = parseTag(v)));
  take("since", (v) => (query.since = parseUtc(v, "since")));
  take("until", (v) => (query.until = parseUtc(v, "until")));
  take("before", (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new TriageError(`before: expected a decision id, got "${v.slice(0, 40)}"`);
    query.before = n;
  });
  return { query, raw, problems };
}

export interface DecisionsView {
  params: DecisionsParams;
  page: DecisionPage;
  labels: readonly string[];
  prices: PriceTable;
  manifestOf: (modelVersion: string) => AnyManifest | null;
  /** The serving model's manifest: tier models for decisions whose own version is gone. */
  current: AnyManifest | null;
  ms: number;
}

export function decisionsBody(v: DecisionsView): Html {
  const p = v.params.raw;
  const sel = (name: string, value: string) => (p[name] === value ? raw(" selected") : "");
  const options = (name: string, values: readonly string[], all: string) =>
    html`<option value="">${all}</option>${values.map((x) => html`<option value="${x}"${sel(name, x)}>${x}</option>`)}`;
  const link = (extra: Record<string, string | null>) => {
    const u = new URLSearchParams();
    for (const [k, x] of Object.entries({ ...p, ...extra })) if (x !== null && x !== undefined && x !== "") u.set(k, x);
    const s = u.toString();
    return `/dashboard/decisions${s ? `?${s}` : ""}`;
  };
  const page = v.page;
  return html`<div class="page-head"><h1>Decisions</h1><span class="muted">newest first</span></div>
<form class="filters" method="get" action="/dashboard/decisions">
  <label>Search<input type="search" name="q" value="${p.q ?? ""}" placeholder="text, request id or text hash" size="30"></label>
  <label>Label<select name="label">${options("label", v.labels, "All labels")}</select></label>
  <label>Stage<select name="stage">${options("stage", STAGE_NAMES, "All stages")}</select></label>
  <label>Decided by<select name="decidedBy">${options("decidedBy", DECIDED_BY, "Anything")}</select></label>
  <label>Confidence<select name="confidence">${options("confidence", ["low", "high"], "Any")}</select></label>
  <label>Feedback<select name="feedback">${options("feedback", FEEDBACK, "Any or none")}</select></label>
  <label>Caller tag<input type="text" name="tag" value="${p.tag ?? ""}" placeholder="feature=search" size="14"></label>
  <label>From (UTC)<input type="datetime-local" name="since" value="${p.since ?? ""}"></label>
  <label>To (UTC)<input type="datetime-local" name="until" value="${p.until ?? ""}"></label>
  <button type="submit" class="primary">Search</button>
  <a href="/dashboard/decisions">Clear</a>
</form>
${v.params.problems.map((m) => notice("warn", m))}
${page.partial ? notice("info", html`Searched ${count(page.scanned)} decisions in ${Math.round(v.ms)} ms and found ${page.rows.length} so far. <a href="${link({ before: String(page.older) })}">Keep searching older decisions ›</a>`) : ""}
<div class="card table-card">
${
  page.rows.length === 0
    ? html`<p class="muted">No decisions match${p.before ? " below this point" : ""}.</p>`
    : html`<table class="grid decisions">
  <thead><tr><th>Time (UTC)</th><th>Query</th><th>Label</th><th>Model</th><th>Stage</th><th class="num">Confidence</th><th>Reason</th><th class="num">Latency</th><th class="num">Cost</th><th>Feedback</th></tr></thead>
  <tbody>${page.rows.map((d) => row(d, v))}</tbody>
</table>`
}
</div>
<div class="pager">
  ${p.before ? html`<a href="${link({ before: null })}">« Newest</a>` : ""}
  ${page.older !== null && !page.partial ? html`<a href="${link({ before: String(page.older) })}" rel="next">Older ›</a>` : ""}
  <span class="muted small">${page.rows.length} shown · answered in ${Math.round(v.ms)} ms</span>
</div>`;
}

function row(d: LoggedDecision, v: DecisionsView): Html {
  const manifest = v.manifestOf(d.modelVersion) ?? v.current;
  const t = shownText(d);
  return html`<tr data-request-id="${d.requestId}">
  <td class="mono small" title="${utc(d.ts)}">${utc(d.ts).slice(5, 19)}</td>
  <td class="text"><a href="/dashboard/decisions/${encodeURIComponent(d.requestId)}" class="${t.kind === "text" ? "" : "hash"}" title="${t.text}">${t.text}</a></td>
  <td class="nowrap"><span class="tier-dot" data-tier="${d.label}"></span>${d.label}${d.label !== d.modelLabel ? html`<div class="muted small">model: ${d.modelLabel}</div>` : ""}</td>
  <td class="small model">${answeredBy(d, manifest) ?? ""}</td>
  <td>${d.stage}</td>
  <td class="num">${num(d.confidence, 2)}${d.lowConfidence ? html` <span class="badge badge-low">low</span>` : ""}</td>
  <td class="small reason">${reasonOf(d, v.manifestOf(d.modelVersion))}</td>
  <td class="num">${ms(d.latencyMs)}</td>
  <td class="num">${costCell(costOf(d, v.prices))}</td>
  <td class="feedback">${feedbackBadges(d)}</td>
</tr>`;
}

const costCell = (c: number | null) => (c === null ? html`<span class="muted">–</span>` : usd(c));

export function feedbackBadges(d: LoggedDecision): Html[] {
  return d.feedback.map((f) => {
    if (f.kind === "label") return html`<span class="badge badge-info" title="${f.note ?? ""}">label: ${f.humanLabel}</span>`;
    if (f.kind === "thumbs") return html`<span class="badge ${f.thumbs === 1 ? "badge-good" : "badge-bad"}">${f.thumbs === 1 ? "thumbs up" : "thumbs down"}</span>`;
    if (f.kind === "escalated") return html`<span class="badge badge-low" title="${f.note ?? ""}">escalated</span>`;
    if (f.kind === "score")
      return html`<span class="badge ${f.score !== null && f.score >= 0.5 ? "badge-good" : "badge-bad"}" title="${f.note ?? ""}">score ${num(f.score, 2)}${f.finalModel ? ` (${f.finalModel})` : ""}</span>`;
    return html`<span class="badge" title="${f.finalModel ?? ""}">${f.tokensIn !== null || f.tokensOut !== null ? `${(f.tokensIn ?? 0) + (f.tokensOut ?? 0)} tok` : "outcome"}</span>`;
  });
}
