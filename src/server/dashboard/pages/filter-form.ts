/**
 * @module
 * The time range and caller-tag controls at the top of the overview and the models' drift view: a plain
 * GET form (works without script; the page script submits it on change).
 */
import { html, raw } from "hono/html";
import type { Filters, RangeKey } from "../filters.js";
import type { Html } from "./layout.js";

const RANGE_LABELS: Array<[RangeKey, string]> = [
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["all", "Everything logged"],
  ["custom", "Custom (UTC)…"],
];

const local = (ts: number) => new Date(ts).toISOString().slice(0, 16);

export function filterForm(action: string, f: Filters, tags: Record<string, string[]>): Html {
  const selected = f.tag ? `${f.tag.key}=${f.tag.value}` : "";
  const options = Object.entries(tags).flatMap(([k, values]) => values.map((v) => `${k}=${v}`));
  if (selected && !options.includes(selected)) options.unshift(selected);
  const sel = (on: boolean) => (on ? raw(" selected") : "");
  return html`<form class="filters" method="get" action="${action}" data-autosubmit>
  <label>Time range
    <select name="range">${RANGE_LABELS.map(([k, label]) => html`<option value="${k}"${sel(f.range.key === k)}>${label}</option>`)}</select>
  </label>
  <label class="custom-range${f.range.key === "custom" ? "" : " hidden"}">From <input type="datetime-local" name="since" value="${local(f.range.since)}"></label>
  <label class="custom-range${f.range.key === "custom" ? "" : " hidden"}">to <input type="datetime-local" name="until" value="${local(f.range.until)}"></label>
  <label>Caller tag
    <select name="tag"><option value="">All callers</option>${groupedOptions(options, selected)}</select>
  </label>
  <button type="submit">Apply</button>
</form>`;
}

/** Options grouped by tag key (feature, team, user, …). */
function groupedOptions(options: string[], selected: string): Html[] {
  const byKey = new Map<string, string[]>();
  for (const o of options) {
    const k = o.slice(0, o.indexOf("="));
    byKey.set(k, [...(byKey.get(k) ?? []), o]);
  }
  return [...byKey].map(
    ([k, os]) => html`<optgroup label="${k}">${os.map((o) => html`<option value="${o}"${o === selected ? raw(" selected") : ""}>${o.slice(k.length + 1)}</option>`)}</optgroup>`,
  );
}
