/**
 * createServer(): the library entry point behind `triage serve`. Wires a Router, providers, the decision
 * log, metrics and the reload watcher into the Hono app, and owns start/graceful close.
 */
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { AppEnv } from "./http/app.js";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TriageError } from "../common/errors.js";
import type { Encoder } from "../encoders/types.js";
import type { RegistryFollower } from "../model/registry-api.js";
import type { FallbackClassifier } from "../router/hooks.js";
import { LlmClassifier } from "../fallback/classifier.js";
import { openRouter, type AnyRouter } from "../outcomes/open.js";
import { logOpenOptions, openDecisionLog, startRetention, type DecisionStore } from "../store/index.js";
import { buildApp } from "./http/app.js";
import { parseServerConfig, resolveProviders, type ServerConfig, type ServerConfigInput } from "./config.js";
import type { Validator } from "./proxy/gates.js";
import { ServerMetrics } from "./metrics.js";
import { burstPerWorker, ProviderPool, RetryBudget } from "./proxy/providers.js";
import { ChatProxy } from "./proxy/proxy.js";
import { ModelReloader } from "./reload.js";
import { createDashboard, type DashboardOptions } from "./dashboard/index.js";
import { serverDashboardContext } from "./dashboard/from-server.js";
import type { ClusterLink } from "./cluster/worker.js";

/** After the drain deadline, how long ended streams get to send their error event before connections are cut. */
const STREAM_END_GRACE_MS = 1000;

export interface CreateServerOptions {
  /** A model directory (or registry directory) of either kind, or a Router or OutcomeRouter already loaded (it is not closed by close()). */
  model: string | AnyRouter;
  /** Parsed or raw server config; raw input is validated here. */
  config?: ServerConfigInput | ServerConfig;
  /**
   * Decision log file path (opened and closed by the server, with the config's log settings; default the
   * config's log.path; a postgres:// URL opens a PostgreSQL log) or an open log (flushed, not closed). The config's retention applies to either.
   */
  log?: string | DecisionStore;
  /**
   * For a model directory: the encoder to use (default: the artifact's own) and an LLM classifier fallback
   * (an LlmClassifier's circuit breaker is shared by the workers of a cluster).
   */
  encoder?: Encoder;
  fallback?: FallbackClassifier;
  /** For a model directory: the fast path's operating point (Router's fastPathTolerance). */
  fastPathTolerance?: number;
  /** Caller-supplied quality gate (see gates.ts). */
  validator?: Validator;
  /** Where provider apiKeyEnv variables are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Non-fatal problems (log write failures, reload failures). Default: a process warning. */
  onError?: (error: Error) => void;
  /**
   * Serving a shared registry: `model` is this replica's cache folder, and the replica's switches (not
   * polling) drive reloads; dashboard promotes go to the shared registry. Not closed by close().
   */
  replica?: RegistryFollower;
  /** The dashboard at /dashboard (default on); false leaves it out. */
  dashboard?: DashboardOptions | false;
  /**
   * This server is one worker of `triage serve --workers N`: responses carry x-triage-worker, /v1/stats and
   * /metrics answer for every worker, a successful admin reload and a provider's or the fallback
   * LlmClassifier's breaker news (opened, closed, a failure counted or a count cleared) are passed on to
   * the others, and conversations' models are kept in the primary, shared by every worker.
   */
  cluster?: ClusterLink;
}

export interface TriageServer {
  readonly app: Hono<AppEnv>;
  readonly proxy: ChatProxy;
  readonly router: AnyRouter;
  readonly metrics: ServerMetrics;
  readonly reloader: ModelReloader;
  readonly config: ServerConfig;
  /** Listens on host (default: the config's, 127.0.0.1); port 0 picks a free port. */
  start(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, drains in-flight requests (streams included) up to drainTimeoutMs, flushes the log. Idempotent. */
  close(): Promise<void>;
}

export async function createServer(options: CreateServerOptions): Promise<TriageServer> {
  const config = parseServerConfig(options.config ?? {});
  const cluster = options.cluster;
  const onError = options.onError ?? ((e: Error) => process.emitWarning(e.message, "TriageServer"));
  const providers = new ProviderPool(
    resolveProviders(config, options.env),
    // Each worker earns its requests' share of tokens, so it holds only its share of the burst: N workers
    // together burst budgetBurst retries at a dead provider, as one process does, not N times as many.
    new RetryBudget(config.retry.budgetRatio, burstPerWorker(config.retry.budgetBurst, cluster?.workers ?? 1)),
    // In a cluster a breaker tells the other workers what our calls did to it; a healthy provider sends nothing.
    cluster && ((provider, state) => cluster.breakerChanged({ kind: "provider", provider }, state)),
  );
  // The fallback classifier the server opens the model with: in a cluster its breaker is shared like the
  // providers' ones. /healthz reports its circuit, or that of a Router's passed in.
  const ownClassifier = typeof options.model === "string" && options.fallback instanceof LlmClassifier ? options.fallback : undefined;
  const classifier = cluster ? ownClassifier : undefined;
  const ownsRouter = typeof options.model === "string";
  const router =
    typeof options.model === "string"
      ? await openRouter(options.model, {
          ...(options.encoder ? { encoder: options.encoder } : {}),
          ...(options.fallback ? { fallback: options.fallback } : {}),
          fastPathTolerance: options.fastPathTolerance,
        })
      : options.model;
  // The first embedding call builds the encoder's graph (~1 s); pay it here, not on the first request.
  await router.encoder.embed(["warm up"]);
  const logSource = options.log ?? config.log?.path;
  const ownsLog = typeof logSource === "string";
  let log: DecisionStore | undefined;
  try {
    log = typeof logSource === "string" ? await openDecisionLog(logSource, { ...logOpenOptions(config.log), onError }) : logSource;
  } catch (err) {
    if (ownsRouter) await router.close();
    throw err;
  }
  const retention = log ? startRetention(log, config.log?.retention, onError) : undefined;
  const metrics = new ServerMetrics();
  // A worker keeps conversations in the primary, shared by all workers; a single process in its own memory.
  const conversations = cluster?.conversations(onError);
  const proxy = new ChatProxy({ router, config, providers, log, metrics, validator: options.validator, onError, ...(conversations ? { conversations } : {}) });
  const reloader = new ModelReloader(router, (result, trigger) => {
    metrics.reloads.inc({ result: result.ok ? "ok" : "failed" });
    // The other workers watch the same directory, but an admin reload may come before any watcher sees a change.
    if (result.ok && trigger === "admin") cluster?.reloaded();
    if (!result.ok) onError(new TriageError(`model reload (${trigger}) failed, still serving ${result.version}: ${result.error}`));
  });
  if (options.replica) reloader.follow(options.replica);
  else if (config.reload.watch) reloader.watch(router.dir, config.reload.intervalMs);

  let draining = false;
  let inflight = 0;
  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  const dashboard =
    options.dashboard === false
      ? undefined
      : createDashboard(
          serverDashboardContext({ proxy, config, reloader, log, onError, replica: options.replica, inflight: () => inflight }, options.dashboard),
          {},
          cluster?.sessionSecret,
        );
  const app = buildApp({
    proxy,
    config,
    metrics,
    reloader,
    log,
    draining: () => draining,
    onError,
    providerStates: () => providers.states(),
    ...fallbackHealth(ownClassifier ?? (router.kind === "tiers" ? router.fallback : undefined)),
    dashboard,
    ...(cluster ? { cluster: { stats: () => cluster.stats(), metrics: () => cluster.metrics() } } : {}),
  });

  classifier?.onBreakerChange((state) => cluster?.breakerChanged({ kind: "fallback" }, state));
  cluster?.serve({
    snapshot: () => proxy.stats.snapshot(),
    flushLog: () => log?.flush(),
    // "watch": a sibling's admin reload; passing it on again would loop between the workers.
    reload: () => void reloader.reload("watch"),
    breaker: (of, state) => (of.kind === "provider" ? providers.apply(of.provider, state) : classifier?.applyBreakerChange(state)),
    registry: metrics.registry,
  });

  const start = (port: number, host = config.host) =>
    new Promise<{ port: number; url: string }>((resolve, reject) => {
      if (server) return reject(new TriageError("server already started"));
      const s = serve({
        fetch: (request, env) => {
          // Counted until the response is fully written (a stream: until its last chunk), for draining.
          inflight++;
          let done = false;
          const release = () => {
            if (!done) inflight--;
            done = true;
          };
          if ("outgoing" in env && "once" in env.outgoing) {
            env.outgoing.once("close", release);
            // Which worker answered: merged into the response's headers when they are written.
            if (cluster) env.outgoing.setHeader("x-triage-worker", cluster.workerId);
          } else release();
          return app.fetch(request, env);
        },
        port,
        hostname: host,
      }) as Server;
      server = s;
      s.once("error", (err) => reject(new TriageError(`cannot listen on ${host}:${port}: ${err.message}`)));
      s.once("listening", () => {
        const actual = (s.address() as AddressInfo).port;
        resolve({ port: actual, url: `http://${host.includes(":") ? `[${host}]` : host}:${actual}` });
      });
    });

  const close = () =>
    (closing ??= (async () => {
      draining = true;
      reloader.stop();
      classifier?.onBreakerChange(undefined); // the classifier may outlive this server
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        const deadline = Date.now() + config.drainTimeoutMs;
        // Keep-alive connections that go idle after their response are closed as they do.
        const settle = async (until: number) => {
          while (inflight > 0 && Date.now() < until) {
            s.closeIdleConnections();
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        await settle(deadline);
        if (inflight > 0) {
          // Streams still running at the deadline end with an error event rather than a cut connection.
          proxy.endStreams("the server is shutting down; the stream was ended");
          await settle(Date.now() + STREAM_END_GRACE_MS);
        }
        s.closeAllConnections();
        await closed;
      }
      // Library use without start(), or a stream the connection close did not end: end it, then wait for every outcome row.
      proxy.endStreams("the server is shutting down; the stream was ended");
      await proxy.streamsSettled();
      await reloader.idle();
      retention?.stop();
      await dashboard?.close();
      try {
        if (log) {
          if (ownsLog) await log.close();
          else await log.flush();
        }
      } finally {
        if (ownsRouter) await router.close();
      }
    })());

  return { app, proxy, router, metrics, reloader, config, start, close };
}

/** /healthz's view of a fallback classifier that keeps a circuit (none for one that does not). */
function fallbackHealth(classifier: FallbackClassifier | undefined): { fallbackState?: () => string } {
  if (classifier?.breakerState === undefined) return {};
  return { fallbackState: () => classifier.breakerState ?? "closed" };
}
