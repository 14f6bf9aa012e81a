/**
 * @module
 * The page shell every dashboard page shares: head with the shipped assets, the top bar with navigation
 * and who is logged in, and the page's data for its script as an inert JSON block (no inline script, so
 * the Content-Security-Policy allows scripts from the dashboard's own URLs only).
 */
import { html, raw } from "hono/html";
import { assetUrl } from "../assets.js";
import type { Session } from "../session.js";

export type Html = ReturnType<typeof html>;

export type NavKey = "overview" | "decisions" | "review" | "models" | "routing" | "login";

const NAV: Array<[NavKey, string, string]> = [
  ["overview", "Overview", "/dashboard"],
  ["decisions", "Decisions", "/dashboard/decisions"],
  ["review", "Review", "/dashboard/review"],
  ["models", "Models", "/dashboard/models"],
  ["routing", "Routing evaluation", "/dashboard/routing"],
];

export interface PageOptions {
  title: string;
  active: NavKey;
  session: Session | null;
  authEnabled: boolean;
  body: Html;
  /** Handed to the page script as JSON (charts' series, review queue...). */
  data?: unknown;
  /** Pages with charts load uPlot. */
  charts?: boolean;
  /** Label (tier) order, so every page colours a tier the same. */
  tiers?: readonly string[];
}

/** JSON that is safe inside a <script type="application/json"> element. */
export function jsonBlock(id: string, data: unknown): Html {
  const json = JSON.stringify(data ?? null)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return html`<script type="application/json" id="${id}">${raw(json)}</script>`;
}

export function page(o: PageOptions): Html {
  const s = o.session;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
${s ? html`<meta name="triage-csrf" content="${s.csrf}">` : ""}
<title>${o.title} · triage</title>
${o.charts ? html`<link rel="stylesheet" href="${assetUrl("uPlot.min.css")}">` : ""}
<link rel="stylesheet" href="${assetUrl("dashboard.css")}">
</head>
<body data-page="${o.active}" data-tiers="${JSON.stringify(o.tiers ?? [])}">
<header class="top">
  <a class="brand" href="/dashboard"><span class="logo" aria-hidden="true">◆</span> triage</a>
  ${
    o.active === "login"
      ? ""
      : html`<nav>${NAV.map(([key, label, href]) => html`<a href="${href}"${key === o.active ? raw(' class="active" aria-current="page"') : ""}>${label}</a>`)}</nav>
  <div class="who">
    ${
      o.authEnabled
        ? html`<span class="role role-${s?.role ?? "none"}" title="${s?.role === "admin" ? "logged in with an admin key" : "logged in with a data-plane key"}">${s?.role === "admin" ? "admin" : "data plane"}</span>
    <form method="post" action="/dashboard/logout"><input type="hidden" name="csrf" value="${s?.csrf ?? ""}"><button class="link">Log out</button></form>`
        : html`<span class="role role-open" title="no TRIAGE_API_KEYS / TRIAGE_ADMIN_KEYS set: everyone who can reach this port is admin">auth off</span>`
    }
  </div>`
  }
</header>
<main>
${o.body}
</main>
${o.data !== undefined ? jsonBlock("page-data", o.data) : ""}
${o.charts ? html`<script src="${assetUrl("uPlot.min.js")}"></script>` : ""}
<script src="${assetUrl("dashboard.js")}" defer></script>
</body>
</html>`;
}

/** A notice box (info, warn, error) inside a page. */
export function notice(kind: "info" | "warn" | "error", body: Html | string): Html {
  return html`<div class="notice notice-${kind}" role="${kind === "error" ? "alert" : "status"}">${body}</div>`;
}
