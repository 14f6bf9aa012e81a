import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { LlmClassifier } from "../../fallback/index.js";
import { isPostgresUrl } from "../../model/registry-pg-url.js";
import { RegistryReplica } from "../../model/registry-replica.js";
import { createServer } from "../../server/index.js";
import { loadServerConfig } from "../../server/config.js";
import { withLogFlags } from "../../store/index.js";
import { info } from "../output.js";
import { FAST_PATH_TOLERANCE_HELP, port, positiveInt, unitInterval } from "../parse.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "serve /v1/route, an OpenAI-compatible /v1/chat/completions proxy, /v1/models, /v1/feedback, /v1/stats, /healthz, /metrics, /admin/reload and the dashboard at /dashboard; " +
        "auth is on when TRIAGE_API_KEYS (data-plane keys, comma-separated) or TRIAGE_ADMIN_KEYS (admin keys: /admin/*, /v1/stats) is set; " +
        "prints one JSON line with the address once listening",
    )
    .option("--model <dir>", "model artifact (or registry) directory")
    .option("--registry <url>", "instead of --model: a shared PostgreSQL model registry (postgres://…); serves its current version and follows promotions")
    .option("--registry-cache <dir>", "with --registry: local folder for the verified copy of the current version (default ~/.cache/triage/registries/…)")
    .option("--port <n>", "port (0: any free port)", port, 8787)
    .option("--host <host>", "interface to listen on (default: the config's, 127.0.0.1)")
    .option("--config <file>", "server config (YAML or JSON): providers, tiers, gates, escalation, auth, limits")
    .option("--log-db <file>", "decision log (SQLite); decisions and cost outcomes are written there")
    .option("--log-durability <mode>", "batched (default: written every 50 ms, a kill -9 loses up to that) | strict (committed before each answer leaves)")
    .option("--log-max-rows <n>", "keep at most the newest N decisions in the log (applied while serving, every log.retention.every)", positiveInt)
    .option("--log-older-than <duration>", "delete logged decisions older than this, e.g. 30d (applied while serving)")
    .option("--fast-path-tolerance <x>", FAST_PATH_TOLERANCE_HELP, unitInterval)
    .option("--reports <dir>", "folder of `triage eval-routing --out` reports for the dashboard's Routing evaluation page")
    .option("--no-dashboard", "do not serve the dashboard at /dashboard")
    .action(
      async (opts: {
        model?: string;
        registry?: string;
        registryCache?: string;
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
        if ((opts.model === undefined) === (opts.registry === undefined)) throw new TriageError("serve: give either --model DIR or --registry postgres://…");
        if (opts.registry !== undefined && !isPostgresUrl(opts.registry))
          throw new TriageError(`--registry: "${opts.registry}" is not a postgres:// URL; serve a registry folder with --model ${opts.registry}`);
        const config = loadServerConfig(opts.config);
        const replica = opts.registry ? await RegistryReplica.start(opts.registry, { cacheDir: opts.registryCache, onError: (e) => info(`warning: ${e.message}`) }) : undefined;
        config.log = withLogFlags(config.log, { path: opts.logDb, durability: opts.logDurability, maxRows: opts.logMaxRows, olderThan: opts.logOlderThan });
        const server = await createServer({
          model: replica?.cacheDir ?? (opts.model as string),
          replica,
          config,
          log: opts.logDb,
          fallback: LlmClassifier.fromEnv(),
          fastPathTolerance: opts.fastPathTolerance,
          dashboard: opts.dashboard ? { reports: opts.reports } : false,
        });
        // A switch while the router was loading (before the server followed the replica) reloads now.
        if (replica && replica.switches > 0) void server.reloader.reload("watch");
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
          server
            .close()
            .then(() => replica?.close())
            .then(
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
