/**
 * @module
 * The dashboard: server-rendered pages under /dashboard (Hono's html helper, escaped by default), uPlot
 * charts, and a small page script for live refresh and keyboard labelling; every file it serves ships in
 * the package. `triage serve` mounts it on its own port ahead of the API's bearer auth (the dashboard has
 * its own login with the same keys); `triage dashboard` serves it alone on a decision log. It reads the
 * log (SQLite or PostgreSQL) on a read-only connection of its own and writes only feedback, through the
 * same DecisionStore call as `triage feedback`.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { TriageError } from "../../common/errors.js";
import { assetResponse } from "./assets.js";
import type { DashboardContext } from "./context.js";
import { DashboardData, type DashboardDataOptions } from "./data.js";
import { filterQuery, parseFilters } from "./filters.js";
import { page, notice } from "./pages/layout.js";
import { loginBody } from "./pages/login.js";
import { overviewBody } from "./pages/overview.js";
import { decisionsBody, parseDecisionParams } from "./pages/decisions.js";
import { decisionBody } from "./pages/decision.js";
import { Neighbours } from "./explain.js";
import { VersionCatalog } from "./versions.js";
import { reviewQueue, undoLabel, writeLabel } from "./review.js";
import { reviewBody } from "./pages/review.js";
import { ReviewVectors } from "./review-vectors.js";
import { modelsBody } from "./pages/models.js";
import { isOutcomeManifest, tierManifest, tierOnly } from "./model-kind.js";
import { computeDrift } from "./drift-data.js";
import { switchVersion } from "./models.js";
import { tagChoices } from "./overview-data.js";
import { listReports, parseReport, readReport } from "./routing.js";
import { reportBody, reportListBody, reportView } from "./pages/routing.js";
import { clearSessionCookie, requireAdmin, requireCsrf, requireSession, Sessions, sessionId, setSessionCookie, type DashboardEnv } from "./session.js";

export type { DashboardContext, DashboardModel, DashboardOptions } from "./context.js";

export interface Dashboard {
  app: Hono<DashboardEnv>;
  /** Opens the log for reading now, so that a log that cannot be read is refused at start (`triage dashboard`). */
  open(): Promise<void>;
  /** Builds the overview's facts now rather than at the first visit (`triage dashboard` does, at start). */
  warm(): Promise<void>;
  /** Saves the facts' snapshot when they moved on, and closes the read-only connection (the server closes the log itself). */
  close(): Promise<void>;
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

/**
 * @param reading tunes how the log is read (tests make the first build's steps small).
 * @param sessionSecret shared by the workers of one server, so each accepts the others' sessions (see session.ts)
 */
export function createDashboard(ctx: DashboardContext, reading: DashboardDataOptions = {}, sessionSecret?: Uint8Array): Dashboard {
  const app = new Hono<DashboardEnv>();
  const sessions = new Sessions(ctx.auth, sessionSecret);
  const data = new DashboardData(ctx, reading);
  const reviewVectors = new ReviewVectors();
  const catalog = ctx.model ? new VersionCatalog(ctx.model.dir, ctx.model.registry) : null;
  const neighbours = ctx.model && catalog ? new Neighbours(ctx.model, catalog) : null;
  const currentManifest = () => {
    try {
      return ctx.model?.manifest() ?? null;
    } catch {
      return null; // an unreadable model must not take every page down; the Models page says what is wrong
    }
  };
  const tierOrder = () => currentManifest()?.labels ?? [];
  const catalogOrFail = () => {
    if (!catalog) throw new TriageError("no model given: start triage dashboard with --model DIR", "E_BAD_REQUEST");
    return catalog;
  };
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

  // The dashboard's own requests, so that its build can tell them from the server's others (only its
  // paths: `serve` mounts this app at the root of its own).
  const countOwn: MiddlewareHandler = async (_c, next) => {
    data.ownRequests++;
    try {
      await next();
    } finally {
      data.ownRequests--;
    }
  };
  app.use("/dashboard", countOwn);
  app.use("/dashboard/*", countOwn);

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

  app.get("/dashboard/decisions", async (c) => {
    if (!data.hasLog) return c.html(pageOf(c, { title: "Decisions", active: "decisions", body: noLog() }));
    const params = parseDecisionParams(c.req.query());
    const started = performance.now();
    const result = await (await data.reader()).page(params.query);
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
    const d = await (await data.reader()).decision(c.req.param("id"));
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
    const d = await (await data.reader()).decision(c.req.param("id"));
    if (!d) return c.json({ error: { message: `no decision with request id "${c.req.param("id").slice(0, 100)}"`, code: "not_found" } }, 404);
    const nearest = neighbours ? await neighbours.nearest(d.text, d.modelVersion) : null;
    return c.json({ decision: d, version: catalog?.get().byModelVersion.get(d.modelVersion)?.name ?? null, nearest });
  });

  app.get("/dashboard/review", async (c) => {
    if (!data.hasLog) return c.html(pageOf(c, { title: "Review", active: "review", body: noLog() }));
    if (!ctx.model)
      return c.html(pageOf(c, { title: "Review", active: "review", body: notice("info", "Review needs the model (labels, encoder): start triage dashboard with --model DIR.") }));
    if (isOutcomeManifest(currentManifest()))
      return c.html(
        pageOf(c, {
          title: "Review",
          active: "review",
          body: notice(
            "info",
            `${tierOnly("Review (labelling queries)")}. It learns from outcomes instead: quality gates, and scores or thumbs sent with triage feedback or POST /v1/feedback.`,
          ),
        }),
      );
    const q = await reviewQueue(ctx, data, reviewVectors);
    const recent = await (await data.reader()).labelsSince(Date.now() - 86_400_000, 20);
    const items = q.items.map((i) => ({
      requestId: i.requestId,
      text: i.text,
      label: i.label,
      modelLabel: i.modelLabel,
      margin: i.margin,
      reasons: i.reasons,
      duplicates: i.duplicates.length,
    }));
    return c.html(pageOf(c, { title: "Review", active: "review", body: reviewBody(q, recent), data: { items, keys: q.keys } }));
  });

  app.post("/dashboard/api/feedback", async (c) => c.json(await writeLabel(ctx, c.get("session"), await jsonBody(c.req.raw))));
  app.post("/dashboard/api/feedback/undo", async (c) => c.json(await undoLabel(ctx, c.get("session"), await jsonBody(c.req.raw))));

  app.get("/dashboard/models", async (c) => {
    if (!ctx.model || !catalog)
      return c.html(pageOf(c, { title: "Models", active: "models", body: notice("info", "No model given: start triage dashboard with --model DIR (an artifact or a registry).") }));
    const known = await catalog.listing();
    let drift = null;
    let tags: Record<string, string[]> = {};
    let filters = parseFilters(c.req.query(), Date.now(), null, "7d");
    // Drift (novelty, the training label mix) is a tier model's; an outcome model's traffic per model is on the overview.
    const current = tierManifest(currentManifest());
    if (data.hasLog && current) {
      const facts = await data.facts();
      filters = parseFilters(c.req.query(), Date.now(), facts.size ? facts.ts[facts.begin] : null, "7d");
      const thresholds = new Map<string, number>();
      for (const [v, k] of known.byModelVersion) {
        const m = tierManifest(k.manifest);
        if (m) thresholds.set(v, m.calibration.threshold);
      }
      drift = computeDrift(facts, { since: filters.range.since, until: filters.range.until, tag: filters.tag, thresholds, trainingMix: current.data.perLabel });
      tags = tagChoices(facts);
    }
    const isAdmin = c.get("session").role === "admin";
    return c.html(
      pageOf(c, {
        title: "Models",
        active: "models",
        charts: drift !== null,
        body: modelsBody({ known, isAdmin, drift, filters, tags, outcome: isOutcomeManifest(currentManifest()) }),
        data: drift ? { drift } : undefined,
      }),
    );
  });

  app.post("/dashboard/api/models/promote", requireAdmin("promoting a model version"), async (c) =>
    c.json(await switchVersion(ctx, catalogOrFail(), "promote", await jsonBody(c.req.raw))),
  );
  app.post("/dashboard/api/models/rollback", requireAdmin("rolling back the model"), async (c) =>
    c.json(await switchVersion(ctx, catalogOrFail(), "rollback", await jsonBody(c.req.raw))),
  );

  app.get("/dashboard/routing", (c) => {
    const dir = ctx.reportsDir;
    const reports = (dir ? listReports(dir) : []).map((r) => {
      try {
        return { ...r, report: readReport(dir!, r.name).report };
      } catch (err) {
        return { ...r, report: null, error: (err as Error).message };
      }
    });
    return c.html(pageOf(c, { title: "Routing evaluation", active: "routing", body: reportListBody(dir, reports) }));
  });

  app.get("/dashboard/routing/:name", (c) => {
    if (!ctx.reportsDir) return c.redirect("/dashboard/routing", 303);
    const r = readReport(ctx.reportsDir, c.req.param("name"));
    return c.html(pageOf(c, { title: r.name, active: "routing", body: reportBody(r) }));
  });

  /** A report file opened in the browser: checked and drawn, never stored. */
  app.post("/dashboard/api/routing/render", async (c) => {
    const body = (await jsonBody(c.req.raw, REPORT_LIMIT)) as { name?: unknown; file?: unknown };
    const name = typeof body.name === "string" ? body.name.slice(0, 128) : "report";
    const r = parseReport(body.file, name, name);
    return c.json({ html: String(await reportView(r)) });
  });

  app.onError((err, c) => {
    if (!(err instanceof TriageError)) ctx.onError(err);
    const message = err instanceof TriageError ? err.message : "internal error; the server log says why";
    if (c.req.path.startsWith("/dashboard/api/")) {
      const code = err instanceof TriageError ? err.code : undefined;
      const status = code === "E_FORBIDDEN" ? 403 : code === "E_UNKNOWN_REQUEST" ? 404 : code ? 400 : 500;
      return c.json({ error: { message, code: code ?? "dashboard_error" } }, status);
    }
    const s = sessions.find(sessionId(c));
    const status = err instanceof TriageError && err.code === "E_UNKNOWN_REQUEST" ? 404 : err instanceof TriageError ? 400 : 500;
    return c.html(page({ title: "Error", active: "overview", session: s ?? null, authEnabled: sessions.authEnabled, body: notice("error", message) }), status);
  });

  return {
    app,
    open: async () => {
      if (data.hasLog) await data.open();
    },
    warm: async () => {
      if (data.hasLog) await data.facts();
    },
    close: () => data.close(),
  };
}

/** A JSON request body (the CSRF middleware already required the content type); bad JSON is a 400. */
async function jsonBody(req: Request, limit = 64 * 1024): Promise<unknown> {
  const text = await req.text();
  if (text.length > limit) throw new TriageError(`request body over ${Math.round(limit / 1024)} KB`, "E_BAD_REQUEST");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TriageError(`request body is not JSON: ${(err as Error).message}`, "E_BAD_REQUEST");
  }
}

/** eval-routing reports keep every point of each curve: a few MB for big test sets. */
const REPORT_LIMIT = 32 * 1024 * 1024;

function noLog() {
  return notice("info", "No decision log: start the server with --log-db FILE (or log.path in its config) to see traffic, cost and decisions here.");
}

/** Only paths inside the dashboard: a login link must not send anyone elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/dashboard(\/|$|\?)/.test(next) && !next.startsWith("//") ? next : "/dashboard";
}
