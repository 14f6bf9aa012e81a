/**
 * @module
 * The dashboard: server-rendered pages under /dashboard (Hono's html helper, escaped by default), uPlot
 * charts, and a small page script for live refresh and keyboard labelling; every file it serves ships in
 * the package. `triage serve` mounts it on its own port ahead of the API's bearer auth (the dashboard has
 * its own login with the same keys); `triage dashboard` serves it alone on a log file. It reads the log
 * on a read-only connection of its own and writes only feedback, through the same DecisionLog call as
 * `triage feedback`.
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { TriageError } from "../../common/errors.js";
import { assetResponse } from "./assets.js";
import type { DashboardContext } from "./context.js";
import { DashboardData } from "./data.js";
import { filterQuery, parseFilters } from "./filters.js";
import { page, notice } from "./pages/layout.js";
import { loginBody } from "./pages/login.js";
import { overviewBody } from "./pages/overview.js";
import { decisionsBody, parseDecisionParams } from "./pages/decisions.js";
import { decisionBody } from "./pages/decision.js";
import { Neighbours } from "./explain.js";
import { VersionCatalog } from "./versions.js";
import { clearSessionCookie, requireCsrf, requireSession, Sessions, sessionId, setSessionCookie, type DashboardEnv } from "./session.js";

export type { DashboardContext, DashboardModel, DashboardOptions } from "./context.js";

export interface Dashboard {
  app: Hono<DashboardEnv>;
  /** Closes the read-only connection (the server closes the log itself). */
  close(): void;
}

/** Same-origin check for the login and logout forms (they cannot carry the CSRF header). */
function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true; // not a browser's cross-site form post
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function createDashboard(ctx: DashboardContext): Dashboard {
  const app = new Hono<DashboardEnv>();
  const sessions = new Sessions(ctx.auth);
  const data = new DashboardData(ctx);
  const catalog = ctx.model ? new VersionCatalog(ctx.model.dir) : null;
  const neighbours = ctx.model && catalog ? new Neighbours(ctx.model, catalog) : null;
  const currentManifest = () => {
    try {
      return ctx.model?.manifest() ?? null;
    } catch {
      return null; // an unreadable model must not take every page down; the Models page says what is wrong
    }
  };
  const tierOrder = () => currentManifest()?.labels ?? [];
  const manifestOf = (modelVersion: string) => catalog?.get().byModelVersion.get(modelVersion)?.manifest ?? null;
  const pageOf = (c: { get(k: "session"): DashboardEnv["Variables"]["session"] }, o: Omit<Parameters<typeof page>[0], "session" | "authEnabled">) =>
    page({ tiers: tierOrder(), ...o, session: c.get("session"), authEnabled: sessions.authEnabled });

  app.use(
    "/dashboard/*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      // no-referrer would make browsers send "Origin: null" with the login form, which the origin check refuses.
      referrerPolicy: "same-origin",
      // HSTS is the TLS terminator's call, not a loopback server's.
      strictTransportSecurity: false,
    }),
  );

  app.get("/", (c) => c.redirect("/dashboard", 302));
  // Browsers ask for it on every page; without this the API's bearer auth answers 401.
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/dashboard/", (c) => c.redirect("/dashboard", 302));

  app.get("/dashboard/assets/:name", (c) => assetResponse(c.req.param("name")) ?? c.text("no such asset", 404));

  app.get("/dashboard/login", (c) => {
    const next = safeNext(c.req.query("next"));
    if (sessions.find(sessionId(c))) return c.redirect(next, 303);
    return c.html(page({ title: "Log in", active: "login", session: null, authEnabled: sessions.authEnabled, body: loginBody(next) }));
  });

  app.post("/dashboard/login", async (c) => {
    if (!sameOrigin(c.req.header("origin"), c.req.header("x-forwarded-host") ?? c.req.header("host"))) return c.text("cross-site login refused", 403);
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    const s = sessions.login(typeof form.key === "string" ? form.key : "");
    if (!s) {
      c.status(401);
      return c.html(
        page({ title: "Log in", active: "login", session: null, authEnabled: sessions.authEnabled, body: loginBody(next, "That key is not one of this server's API keys.") }),
      );
    }
    setSessionCookie(c, s);
    return c.redirect(next, 303);
  });

  app.post("/dashboard/logout", async (c) => {
    if (!sameOrigin(c.req.header("origin"), c.req.header("x-forwarded-host") ?? c.req.header("host"))) return c.text("cross-site logout refused", 403);
    sessions.logout(sessionId(c));
    clearSessionCookie(c);
    return c.redirect("/dashboard/login", 303);
  });

  app.use("/dashboard", requireSession(sessions));
  app.use("/dashboard/*", requireSession(sessions));
  app.use("/dashboard/api/*", requireCsrf());

  app.get("/dashboard", async (c) => {
    if (!data.hasLog) return c.html(pageOf(c, { title: "Overview", active: "overview", body: noLog() }));
    const facts = await data.facts();
    const f = parseFilters(c.req.query(), Date.now(), facts.size ? facts.ts[facts.begin] : null);
    const q = filterQuery(f);
    const d = await data.overview({ since: f.range.since, until: f.range.until, tag: f.tag, labels: ctx.model?.manifest().labels });
    return c.html(pageOf(c, { title: "Overview", active: "overview", charts: true, body: overviewBody(d, f, `/dashboard/api/overview?${q}`), data: d }));
  });

  app.get("/dashboard/api/overview", async (c) => {
    const facts = await data.facts();
    const f = parseFilters(c.req.query(), Date.now(), facts.size ? facts.ts[facts.begin] : null);
    if (f.problems.length) return c.json({ error: { message: f.problems.join("; "), code: "bad_filter" } }, 400);
    return c.json(await data.overview({ since: f.range.since, until: f.range.until, tag: f.tag, labels: ctx.model?.manifest().labels }));
  });

  app.get("/dashboard/decisions", (c) => {
    if (!data.hasLog) return c.html(pageOf(c, { title: "Decisions", active: "decisions", body: noLog() }));
    const params = parseDecisionParams(c.req.query());
    const started = performance.now();
    const result = data.reader().page(params.query);
    const labels = tierOrder();
    return c.html(
      pageOf(c, {
        title: "Decisions",
        active: "decisions",
        body: decisionsBody({ params, page: result, labels, prices: ctx.prices(), manifestOf, current: currentManifest(), ms: performance.now() - started }),
      }),
    );
  });

  app.get("/dashboard/decisions/:id", async (c) => {
    if (!data.hasLog) return c.html(pageOf(c, { title: "Decision", active: "decisions", body: noLog() }));
    const d = data.reader().decision(c.req.param("id"));
    if (!d)
      return c.html(
        pageOf(c, {
          title: "Decision",
          active: "decisions",
          body: notice("warn", `No decision with request id "${c.req.param("id").slice(0, 100)}" in this log (retention may have deleted it).`),
        }),
        404,
      );
    const version = catalog?.get().byModelVersion.get(d.modelVersion) ?? null;
    const nearest = neighbours ? await neighbours.nearest(d.text, d.modelVersion) : null;
    return c.html(pageOf(c, { title: "Decision", active: "decisions", body: decisionBody({ d, version, nearest, prices: ctx.prices(), current: currentManifest() }) }));
  });

  app.get("/dashboard/api/decisions/:id", async (c) => {
    const d = data.reader().decision(c.req.param("id"));
    if (!d) return c.json({ error: { message: `no decision with request id "${c.req.param("id").slice(0, 100)}"`, code: "not_found" } }, 404);
    const nearest = neighbours ? await neighbours.nearest(d.text, d.modelVersion) : null;
    return c.json({ decision: d, version: catalog?.get().byModelVersion.get(d.modelVersion)?.name ?? null, nearest });
  });

  app.onError((err, c) => {
    if (!(err instanceof TriageError)) ctx.onError(err);
    const message = err instanceof TriageError ? err.message : "internal error; the server log says why";
    if (c.req.path.startsWith("/dashboard/api/")) return c.json({ error: { message, code: "dashboard_error" } }, 500);
    const s = sessions.find(sessionId(c));
    return c.html(page({ title: "Error", active: "overview", session: s ?? null, authEnabled: sessions.authEnabled, body: notice("error", message) }), 500);
  });

  return { app, close: () => data.close() };
}

function noLog() {
  return notice("info", "No decision log: start the server with --log-db FILE (or log.path in its config) to see traffic, cost and decisions here.");
}

/** Only paths inside the dashboard: a login link must not send anyone elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/dashboard(\/|$|\?)/.test(next) && !next.startsWith("//") ? next : "/dashboard";
}
