/**
 * @module
 * `triage dashboard`: the dashboard on a decision log (a SQLite file or a postgres:// URL, default
 * TRIAGE_LOG_DB) without a running proxy (`triage serve` serves the same pages at /dashboard). Same keys
 * as the server: TRIAGE_API_KEYS log in, TRIAGE_ADMIN_KEYS may also promote and roll back; with neither
 * set it listens on loopback with auth off.
 */
import { serve } from "@hono/node-server";
import type { Command } from "commander";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TriageError } from "../../common/errors.js";
import { loadServerConfig } from "../../server/config.js";
import { createDashboard } from "../../server/dashboard/index.js";
import { standaloneContext } from "../../server/dashboard/standalone.js";
import { logDbOption } from "../log-db.js";
import { info } from "../output.js";
import { port } from "../parse.js";

interface DashboardCliOptions {
  logDb: string;
  model?: string;
  port: number;
  host?: string;
  config?: string;
  reports?: string;
}

export function registerDashboard(program: Command): void {
  program
    .command("dashboard")
    .description(
      "serve the dashboard (overview, decisions, review, models, routing evaluation) on a decision log, without the proxy; " +
        "log in with a key from TRIAGE_API_KEYS (or TRIAGE_ADMIN_KEYS to promote and roll back); prints one JSON line with the address once listening",
    )
    .addOption(logDbOption("written by `triage serve` or `triage route --log-db`"))
    .option("--model <dir>", "model artifact or registry: labels, training mix, the review queue's encoder, promote/rollback")
    .option("--port <n>", "port (0: any free port)", port, 8788)
    .option("--host <host>", "interface to listen on (default: the config's, 127.0.0.1)")
    .option("--config <file>", "server config (YAML or JSON): auth keys, per-tier price overrides")
    .option("--reports <dir>", "folder of `triage eval-routing --out` reports to show under Routing evaluation")
    .action(async (opts: DashboardCliOptions) => {
      const config = loadServerConfig(opts.config);
      const onError = (e: Error) => info(`triage dashboard: ${e.message}`);
      const ctx = standaloneContext({ logDb: opts.logDb, model: opts.model, config, reports: opts.reports, onError });
      const dashboard = createDashboard(ctx);
      // A database that cannot be reached or holds no log is refused now, in one line, not at the first page.
      await dashboard.open().catch(async (err: unknown) => {
        await Promise.all([dashboard.close(), ctx.close()]);
        throw err;
      });
      const host = opts.host ?? config.host;
      const server = await new Promise<Server>((resolve, reject) => {
        const s = serve({ fetch: dashboard.app.fetch, port: opts.port, hostname: host }) as Server;
        s.once("error", (err) => reject(new TriageError(`cannot listen on ${host}:${opts.port}: ${err.message}`)));
        s.once("listening", () => resolve(s));
      });
      const actual = (server.address() as AddressInfo).port;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${actual}`;
      process.stdout.write(JSON.stringify({ listening: `${url}/dashboard`, port: actual, auth: config.auth.tokens.length + config.auth.adminTokens.length > 0 }) + "\n");
      // Nothing else runs here: read the log now, so the first page does not wait for it.
      dashboard.warm().catch(onError);
      const stop = () => {
        server.close();
        server.closeAllConnections();
        Promise.all([dashboard.close(), ctx.close()]).then(
          () => process.exit(0),
          (err: unknown) => {
            info(`triage dashboard: ${(err as Error).message}`);
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
}
