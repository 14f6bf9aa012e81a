/**
 * @module
 * The review page: one queued query at a time with a key per label (as in the terminal), skip, undo and
 * out-of-scope; the page script sends each label as it is given. Beside it, the labels people gave
 * lately, read back from the log.
 */
import { html } from "hono/html";
import { count, utc } from "../format.js";
import { OUT_OF_SCOPE } from "../../../retrain/review/feedback.js";
import type { ReviewQueueView } from "../review.js";
import { notice, type Html } from "./layout.js";

export interface RecentLabel {
  id: number;
  requestId: string;
  label: string;
  ts: number;
  note: string | null;
}

export function reviewBody(q: ReviewQueueView, recent: RecentLabel[]): Html {
  const first = q.items[0];
  return html`<div class="page-head"><h1>Review</h1><span class="muted">the queries whose label would teach the model most</span></div>
<section class="review">
  <div>
    ${
      first
        ? html`<div class="card review-item" data-review>
      <div class="muted small"><span data-position>1 of ${q.items.length}</span> · ranked from the newest ${count(q.window)} decisions</div>
      <div class="progress"><div data-progress></div></div>
      <div class="query" data-text>${first.text}</div>
      <div class="why" data-why>Routed to <strong data-routed>${first.label}</strong> (model: <span data-model>${first.modelLabel}</span>, margin <span data-margin>${first.margin.toFixed(3)}</span>) · <span data-reasons>${first.reasons.join("; ")}</span><a class="explain-link" data-explain href="/dashboard/decisions/${encodeURIComponent(first.requestId)}" target="_blank" rel="noopener">why? ↗</a></div>
      <div class="keys" data-keys>${q.keys.map(([key, label]) => html`<button type="button" data-key="${key}" data-label="${label}"><kbd>${key}</kbd> ${label === OUT_OF_SCOPE ? "out of scope (none fits)" : label}</button>`)}</div>
      <div class="key-help"><kbd>s</kbd> skip · <kbd>u</kbd> undo the last label or skip · labels are saved as you press them and used by the next <code>triage retrain</code></div>
    </div>
    <div class="card review-done hidden" data-done><h2>Queue done</h2><p data-summary></p><p><a href="/dashboard/review">Build a new queue</a> · <a href="/dashboard/decisions?feedback=label">See the labels in the log</a></p></div>`
        : notice("info", "Nothing to review: every recent decision with text is labelled, or the log is empty.")
    }
  </div>
  <div class="card review-log">
    <h2>Labelled lately</h2>
    <ul data-labelled>${recent.map((r) => html`<li><a href="/dashboard/decisions/${encodeURIComponent(r.requestId)}">${r.requestId.slice(0, 18)}</a> → <strong>${r.label}</strong> <span class="muted small">${utc(r.ts).slice(11, 19)}${r.note ? ` · ${r.note}` : ""}</span></li>`)}</ul>
    ${recent.length === 0 ? html`<p class="muted" data-none>None in the last 24 hours.</p>` : ""}
  </div>
</section>`;
}
