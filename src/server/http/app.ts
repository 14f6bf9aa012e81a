/** @module The HTTP surface: parsing, auth, limits, headers and serialisation around the ChatProxy. No routing logic here. */
import { randomUUID } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { requestId, type RequestIdVariables } from "hono/request-id";
import { cors } from "hono/cors";
import { priceTable } from "../../config/price.js";
import type { DecisionStore } from "../../store/index.js";
import { roleMatcher, type Role } from "./auth.js";
import type { ServerConfig } from "../config.js";
import { ApiError } from "../errors.js";
import { postFeedback } from "./feedback.js";
import { modelList } from "./models-list.js";
import type { ServerMetrics } from "../metrics.js";
import type { AnswerMeta, ChatProxy } from "../proxy/proxy.js";
import type { ServerStatsSnapshot } from "../proxy/stats.js";
import { callerTags, limitBody, parseJsonBody } from "./body.js";
import { parseDialValue } from "../../outcomes/dial.js";
import type { Dial } from "../../router/types.js";
import type { ModelReloader } from "../reload.js";
import type { Dashboard } from "../dashboard/index.js";

export interface AppDeps {
  proxy: ChatProxy;
  config: ServerConfig;
  metrics: ServerMetrics;
  reloader: ModelReloader;
  log?: DecisionStore;
  /** True once shutdown began: /healthz says so and responses close their connections. */
  draining: () => boolean;
  onError: (error: Error) => void;
  /** Circuit state per provider name (no URLs, no keys). */
  providerStates: () => Record<string, string>;
  /** The fallback LLM classifier's circuit state, when the server has one. */
  fallbackState?: () => string;
  /** The dashboard's routes (/ and /dashboard/*), with their own login; absent: not served. */
  dashboard?: Dashboard;
  /** One worker of several (`serve --workers`): /v1/stats and /metrics answer for all of them. */
  cluster?: { stats(): Promise<{ snapshot: ServerStatsSnapshot; workers: number }>; metrics(): Promise<string> };
}

/** The caller's role once bearer auth has run (unset when auth is off), and the request id. */
export type AppEnv = { Variables: { role?: Role } & RequestIdVariables };

const UNREAD_BODY_STATUSES = new Set([401, 403, 413, 415]);

const KNOWN_ROUTES = new Set(["/v1/route", "/v1/chat/completions", "/v1/models", "/v1/feedback", "/v1/stats", "/healthz", "/metrics", "/admin/reload"]);

/** Circuit-breaker states in words for /healthz: a healthy endpoint's circuit is "closed", which reads as the opposite. */
const HEALTH: Record<string, string> = { closed: "healthy", open: "down", "half-open": "recovering" };
const health = (state: string) => HEALTH[state] ?? state;

export function buildApp(deps: AppDeps): Hono<AppEnv> {
  const { proxy, config, metrics, reloader, log } = deps;
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    // A request refused before its body was read (auth, size, type) leaves the rest of that body on the
    // connection; the node server then drops it, so tell the client not to reuse it for the next request.
    if (deps.draining() || UNREAD_BODY_STATUSES.has(c.res.status)) c.header("connection", "close");
    const route = KNOWN_ROUTES.has(c.req.path) ? c.req.path : "other";
    metrics.requests.inc({ route, status: String(c.res.status) });
    metrics.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
  });

  // The caller's x-request-id when it is a sane token (their traces then line up with the decision log), else a fresh one.
  // Read by our own rule rather than the middleware's header option, which would also echo it back and allow other characters.
  app.use("*", requestId({ headerName: "", generator: (c) => callerRequestId(c.req.header("x-request-id")) ?? randomUUID() }));

  // CORS is off unless origins are configured: browsers must not call the proxy with a user's token by default.
  if (config.cors.origins.length > 0)
    app.use(
      "*",
      cors({
        origin: config.cors.origins,
        allowHeaders: ["authorization", "content-type", "x-triage-tags", "x-request-id", ...REQUEST_HEADERS],
        exposeHeaders: ["x-triage-tier", "x-triage-model", "x-triage-request-id", "x-triage-parallel"],
      }),
    );

  // Open for load-balancer probes; reports draining as 503 so traffic moves away during shutdown.
  app.get("/healthz", (c) =>
    c.json(
      {
        status: deps.draining() ? "draining" : "ok",
        modelVersion: proxy.router.version,
        labels: proxy.router.labels,
        providers: Object.fromEntries(Object.entries(deps.providerStates()).map(([name, state]) => [name, health(state)])),
        ...(deps.fallbackState ? { fallback: health(deps.fallbackState()) } : {}),
      },
      deps.draining() ? 503 : 200,
    ),
  );

  // Ahead of the bearer auth below: the dashboard logs people in with the same keys and a session cookie.
  if (deps.dashboard) app.route("/", deps.dashboard.app);

  const roleOf = roleMatcher(config.auth.tokens, config.auth.adminTokens);
  if (roleOf) {
    const unauthorized = () =>
      Response.json(new ApiError(401, "missing or invalid bearer token (Authorization: Bearer <token>)", "authentication_error", null, "invalid_api_key").toBody(), {
        status: 401,
      });
    const auth = bearerAuth<AppEnv>({
      realm: "triage",
      verifyToken: (token, c) => {
        const role = roleOf(token);
        if (role) c.set("role", role);
        return role !== undefined;
      },
      noAuthenticationHeader: { message: unauthorized },
      invalidAuthenticationHeader: { message: unauthorized },
      invalidToken: { message: unauthorized },
    });
    app.use("*", async (c, next) => {
      if (c.req.method === "OPTIONS") return next(); // CORS preflight carries no credentials
      return auth(c, next);
    });
  }
  /** With auth on, only admin keys pass; with auth off, everyone (the server listens on loopback by default). */
  const adminOnly =
    (what: string): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      if (roleOf && c.get("role") !== "admin")
        return errorJson(
          c,
          new ApiError(403, `${what} needs an admin key (TRIAGE_ADMIN_KEYS or auth.adminTokens); this key is a data-plane key`, "permission_error", null, "admin_key_required"),
        );
      return next();
    };
  app.use("/admin/*", adminOnly("/admin"));
  app.use("/v1/stats", adminOnly("/v1/stats"));

  // JSON only: a browser sends a cross-site text/plain or form post without a CORS preflight, a JSON one never.
  app.use("*", async (c, next) => {
    if (c.req.method !== "POST") return next();
    const type = c.req.header("content-type");
    const media = type?.split(";")[0].trim().toLowerCase();
    if (media !== "application/json")
      return errorJson(
        c,
        new ApiError(
          415,
          `POST bodies must be sent as content-type application/json (got ${type ? `"${type.slice(0, 100)}"` : "none"})`,
          "invalid_request_error",
          null,
          "unsupported_media_type",
        ),
      );
    return next();
  });

  const limit = limitBody(config.bodyLimitBytes, (c) =>
    errorJson(c as Context<AppEnv>, new ApiError(413, `request body is larger than ${config.bodyLimitBytes} bytes`, "invalid_request_error", null, "request_too_large")),
  );

  app.post("/v1/route", limit, async (c) => {
    const body = parseJsonBody(await c.req.text());
    const answer = await proxy.route(body, { requestId: c.get("requestId"), tags: callerTags(c.req.header("x-triage-tags"), undefined), dial: dialHeader(c) });
    setTriageHeaders(c, { requestId: answer.requestId, tier: answer.label, model: answer.model ?? "" });
    return c.json(answer);
  });

  app.post("/v1/chat/completions", limit, async (c) => {
    const requestId = c.get("requestId");
    c.header("x-triage-request-id", requestId);
    const body = parseJsonBody(await c.req.text());
    const user = typeof (body as { user?: unknown })?.user === "string" ? (body as { user: string }).user : undefined;
    const result = await proxy.complete(body, {
      requestId,
      tags: callerTags(c.req.header("x-triage-tags"), user),
      signal: c.req.raw.signal,
      dial: dialHeader(c),
      conversation: c.req.header("x-triage-conversation"),
    });
    setTriageHeaders(c, result.meta);
    if (result.meta.parallel) c.header("x-triage-parallel", result.meta.parallel.agreed === null ? "one-answer" : result.meta.parallel.agreed ? "agree" : "disagree");
    if (result.kind === "json") return c.json(result.body);
    void result.ended.catch((err: unknown) => deps.onError(err as Error));
    c.header("content-type", "text/event-stream; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(result.body);
  });

  app.get("/v1/models", (c) => c.json(modelList(proxy, config)));

  app.post("/v1/feedback", limit, async (c) => c.json(await postFeedback(log, parseJsonBody(await c.req.text()))));

  app.get("/v1/stats", async (c) => {
    const prices = priceTable([...proxy.tiers().values()]);
    // In a cluster every worker flushes its log before answering, so the shared log's stats count every decision.
    const all = deps.cluster ? await deps.cluster.stats() : undefined;
    const server = all ? all.snapshot : proxy.stats.snapshot();
    return c.json({ server, log: log ? await log.stats({ prices }) : null, ...(all ? { workers: all.workers } : {}) });
  });

  app.get("/metrics", async (c) => {
    c.header("content-type", metrics.registry.contentType);
    return c.body(deps.cluster ? await deps.cluster.metrics() : await metrics.registry.metrics());
  });

  app.post("/admin/reload", async (c) => {
    const result = await reloader.reload("admin");
    if (result.ok) return c.json(result);
    // The cause names files on this machine: it goes to the server log (the reloader's onResult), not to the caller.
    const { error: _detail, ...rest } = result;
    return c.json(
      { ...new ApiError(500, `reload failed, still serving ${result.version}; the server log says why`, "server_error", null, "reload_failed").toBody(), ...rest },
      500,
    );
  });

  app.notFound((c) => errorJson(c, new ApiError(404, `no route for ${c.req.method} ${c.req.path}`, "invalid_request_error", null, "not_found")));
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorJson(c, err);
    if (err instanceof HTTPException) return err.getResponse(); // bearer auth's 401, already in our error format
    deps.onError(err);
    // Internal messages may name files or hosts; the caller gets a generic message and the request id.
    return errorJson(c, new ApiError(500, "internal error; see the server log", "server_error"));
  });
  return app;
}

function errorJson(c: Context<AppEnv>, err: ApiError): Response {
  return c.json(err.toBody(), err.status);
}

function setTriageHeaders(c: Context<AppEnv>, meta: Pick<AnswerMeta, "requestId" | "tier" | "model">): void {
  c.header("x-triage-request-id", meta.requestId);
  c.header("x-triage-tier", meta.tier);
  c.header("x-triage-model", meta.model);
}

/** Per-request routing headers: the outcome dial (a quality floor or a cost ceiling, relative to the strongest model) and the conversation. */
const REQUEST_HEADERS = ["x-triage-quality", "x-triage-max-cost", "x-triage-conversation"];

/** The request's dial from x-triage-quality or x-triage-max-cost (not both); a bad value is the caller's 400. */
function dialHeader(c: Context<AppEnv>): Dial | undefined {
  const quality = c.req.header("x-triage-quality");
  const maxCost = c.req.header("x-triage-max-cost");
  if (quality === undefined && maxCost === undefined) return undefined;
  if (quality !== undefined && maxCost !== undefined)
    throw new ApiError(400, "give x-triage-quality or x-triage-max-cost, not both", "invalid_request_error", null, "invalid_header");
  try {
    return quality !== undefined ? parseDialValue(quality, "quality", "x-triage-quality") : parseDialValue(maxCost!, "maxCost", "x-triage-max-cost");
  } catch (err) {
    throw new ApiError(400, (err as Error).message, "invalid_request_error", null, "invalid_header");
  }
}

/** A caller's x-request-id when it is a sane token (at most 128 letters, digits and . _ : -), else undefined. */
function callerRequestId(given: string | undefined): string | undefined {
  return given !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : undefined;
}
