/**
 * @module
 * The dashboard's context inside `triage serve`: the server's own decision log, SQLite or PostgreSQL
 * (read on a connection of the dashboard's own; feedback goes through the log, as the proxy's does),
 * its router (a tier or an outcome model, its encoder), its tiers' prices, its keys, and a reload right after a promote or
 * rollback from the dashboard.
 */
import type { PriceTable } from "../../config/price.js";
import type { RegistryFollower } from "../../model/registry-api.js";
import type { DecisionStore } from "../../store/index.js";
import type { PgDecisionLog } from "../../store/postgres/log.js";
import type { ServerConfig } from "../config.js";
import type { ChatProxy } from "../proxy/proxy.js";
import type { ModelReloader } from "../reload.js";
import type { DashboardContext, DashboardOptions } from "./context.js";
import { TriageError } from "../../common/errors.js";

export interface ServerParts {
  proxy: ChatProxy;
  config: ServerConfig;
  reloader: ModelReloader;
  log?: DecisionStore;
  onError: (error: Error) => void;
  /** Set when serving a shared registry: switches go there, then this replica catches up at once. */
  replica?: RegistryFollower;
  /** Requests the server is answering now (the dashboard's own included). */
  inflight?: () => number;
}

export function serverDashboardContext(s: ServerParts, options: DashboardOptions = {}): DashboardContext {
  const { proxy, log } = s;
  return {
    // An in-memory log has no file another connection could read.
    logPath: log && log.path !== ":memory:" ? log.path : null,
    // A PostgreSQL log opens the dashboard's own read-only pool on the same database.
    ...(log?.kind === "postgres" ? { openReader: () => (log as PgDecisionLog).dashboardReader(s.onError) } : {}),
    feedbackLog: () => {
      if (!log) throw new TriageError("no decision log: start the server with --log-db FILE (or log.path in its config)");
      return log;
    },
    // Either kind of model: the pages say which of their parts only a tier model has.
    model: {
      dir: proxy.router.dir,
      manifest: () => proxy.router.manifest,
      encoder: async () => proxy.router.encoder,
      ...(s.replica ? { registry: s.replica.registry } : {}),
      afterSwitch: async () => {
        const replica = s.replica;
        // The replica's switch triggers the reload; without a switch (a failed sync) nothing changed here.
        const r = replica
          ? await replica.sync().then(
              // No reload yet: the version promoted was already the one served.
              () => s.reloader.idle().then(() => s.reloader.last ?? { ok: true, version: proxy.router.version, previousVersion: proxy.router.version }),
              () => undefined,
            )
          : await s.reloader.reload("admin");
        if (!r) return { ok: false, version: proxy.router.version, error: "this replica could not load the new version; the server log says why" };
        return { ok: r.ok, version: r.version, ...(r.error ? { error: "the reload failed; the server log says why" } : {}) };
      },
    },
    prices: () => {
      const prices: PriceTable = {};
      for (const t of proxy.tiers().values())
        if (t.price) {
          prices[t.name] = t.price;
          if (t.model) prices[t.model] = t.price;
        }
      return prices;
    },
    auth: s.config.auth,
    ...(options.reports ? { reportsDir: options.reports } : {}),
    onError: s.onError,
    ...(s.inflight ? { inflight: s.inflight } : {}),
    ...(log
      ? {
          flushLog: () => {
            try {
              log.flush();
            } catch (err) {
              s.onError(err as Error); // the rows stay queued and are retried; the page shows what is written
            }
          },
        }
      : {}),
  };
}
