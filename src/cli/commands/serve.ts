import type { Command } from "commander";
import { LlmClassifier } from "../../fallback/index.js";
import { createServer } from "../../server/index.js";
import { loadServerConfig } from "../../server/config.js";
import { withLogFlags } from "../../store/index.js";
import { info } from "../output.js";
import { FAST_PATH_TOLERANCE_HELP, port, positiveInt, unitInterval } from "../parse.js";
import { logDbOption } from "../log-db.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "serve /v1/route, an OpenAI-compatible /v1/chat/completions proxy, /v1/models, /v1/feedback, /v1/stats, /healthz, /metrics, /admin/reload and the dashboard at /dashboard; " +
        "auth is on when TRIAGE_API_KEYS (data-plane keys, comma-separated) or TRIAGE_ADMIN_KEYS (admin keys: /admin/*, /v1/stats) is set; " +
        "prints one JSON line with the address once listening",
    )
    .requiredOption("--model <dir>", "model artifact (or registry) directory")
    .option("--port <n>", "port (0: any free port)", port, 8787)
    .option("--host <host>", "interface to listen on (default: the config's, 127.0.0.1)")
    .option("--config <file>", "server config (YAML or JSON): providers, tiers, gates, escalation, auth, limits")
    .addOption(logDbOption("decisions and cost outcomes are written there", false))
    .option("--log-durability <mode>", "batched (default: written every 50 ms, a kill -9 loses up to that) | strict (committed before each answer leaves)")
    .option("--log-max-rows <n>", "keep at most the newest N decisions in the log (applied while serving, every log.retention.every)", positiveInt)
    .option("--log-older-than <duration>", "delete logged decisions older than this, e.g. 30d (applied while serving)")
    .option("--fast-path-tolerance <x>", FAST_PATH_TOLERANCE_HELP, unitInterval)
    .option("--reports <dir>", "folder of `triage eval-routing --out` reports for the dashboard's Routing evaluation page")
    .option("--no-dashboard", "do not serve the dashboard at /dashboard")
    .action(
      async (opts: {
        model: string;
        port: number;
        host?: string;
        config?: string;
        logDb?: string;
        fastPathTolerance?: number;
        logDurability?: string;
        logMaxRows?: number;
        logOlderThan?: string;
        reports?: string;
        dashboard: boolean;
      }) => {
        const config = loadServerConfig(opts.config);
        config.log = withLogFlags(config.log, { path: opts.logDb, durability: opts.logDurability, maxRows: opts.logMaxRows, olderThan: opts.logOlderThan });
        const server = await createServer({
          model: opts.model,
          config,
          log: opts.logDb,
          fallback: LlmClassifier.fromEnv(),
          fastPathTolerance: opts.fastPathTolerance,
          dashboard: opts.dashboard ? { reports: opts.reports } : false,
        });
        const { url, port: actual } = await server.start(opts.port, opts.host);
        process.stdout.write(
          JSON.stringify({
            listening: url,
            port: actual,
            modelVersion: server.router.version,
            providers: config.providers.map((p) => p.name),
            auth: config.auth.tokens.length + config.auth.adminTokens.length > 0,
          }) + "\n",
        );
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          info(`triage serve: ${signal}, draining in-flight requests (up to ${config.drainTimeoutMs} ms)`);
          server.close().then(
            () => process.exit(0),
            (err: unknown) => {
              info(`triage serve: shutdown failed: ${(err as Error).message}`);
              process.exit(1);
            },
          );
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      },
    );
}
