import cluster from "node:cluster";
import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { LlmClassifier } from "../../fallback/index.js";
import { isPostgresUrl } from "../../model/registry-pg-url.js";
import { RegistryReplica } from "../../model/registry-replica.js";
import { createServer } from "../../server/index.js";
import { defaultWorkers, MAX_DEFAULT_WORKERS, runPrimary, WorkerLink, type ListeningInfo } from "../../server/cluster/index.js";
import { loadServerConfig } from "../../server/config.js";
import { egressSummary } from "../../server/proxy/egress.js";
import { logOpenOptions, openDecisionLog, withLogFlags } from "../../store/index.js";
import { info } from "../output.js";
import { FAST_PATH_TOLERANCE_HELP, port, positiveInt, unitInterval } from "../parse.js";
import { logDbOption } from "../log-db.js";

/** How long shutdown may take beyond the drain timeout (flushing the log, closing the encoder) before the process gives up. */
const SHUTDOWN_GRACE_MS = 10_000;

interface ServeOptions {
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
  workers?: number;
}

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
    .addOption(logDbOption("decisions and cost outcomes are written there", false))
    .option("--log-durability <mode>", "batched (default: written every 50 ms, a kill -9 loses up to that) | strict (committed before each answer leaves)")
    .option("--log-max-rows <n>", "keep at most the newest N decisions in the log (applied while serving, every log.retention.every)", positiveInt)
    .option("--log-older-than <duration>", "delete logged decisions older than this, e.g. 30d (applied while serving)")
    .option("--fast-path-tolerance <x>", FAST_PATH_TOLERANCE_HELP, unitInterval)
    .option("--reports <dir>", "folder of `triage eval-routing --out` reports for the dashboard's Routing evaluation page")
    .option("--no-dashboard", "do not serve the dashboard at /dashboard")
    .option(
      "--workers <n>",
      `processes serving the port, each with its own model and encoder (default: one per core, at most ${MAX_DEFAULT_WORKERS}; here ${defaultWorkers()}); ` +
        "a crashed worker is restarted; 1 serves from this process alone",
      positiveInt,
    )
    .action(async (opts: ServeOptions) => {
      if ((opts.model === undefined) === (opts.registry === undefined)) throw new TriageError("serve: give either --model DIR or --registry postgres://…");
      if (opts.registry !== undefined && !isPostgresUrl(opts.registry))
        throw new TriageError(`--registry: "${opts.registry}" is not a postgres:// URL; serve a registry folder with --model ${opts.registry}`);
      const workers = opts.workers ?? defaultWorkers();
      if (cluster.isWorker) return serveOne(opts, WorkerLink.connect());
      if (workers === 1) return serveOne(opts);
      return servePrimary(opts, workers);
    });
}

/** The server's config file, environment and log flags, checked (a bad value ends the command with its message). */
function configFrom(opts: ServeOptions) {
  const config = loadServerConfig(opts.config);
  config.log = withLogFlags(config.log, { path: opts.logDb, durability: opts.logDurability, maxRows: opts.logMaxRows, olderThan: opts.logOlderThan });
  return config;
}

/** Says once, before serving, which providers' calls go through an egress proxy (HTTPS_PROXY...); a malformed one ends the command. */
function sayEgress(config: ReturnType<typeof configFrom>): void {
  const line = egressSummary(config.providers);
  if (line) info(`triage serve: ${line}`);
}

/** One server in this process: `--workers 1`, or one worker of several. */
async function serveOne(opts: ServeOptions, link?: WorkerLink): Promise<void> {
  const config = configFrom(opts);
  if (!link) sayEgress(config);
  const replica = opts.registry ? await RegistryReplica.start(opts.registry, { cacheDir: opts.registryCache, onError: (e) => info(`warning: ${e.message}`) }) : undefined;
  const server = await createServer({
    model: replica?.cacheDir ?? (opts.model as string),
    replica,
    config,
    log: opts.logDb,
    fallback: LlmClassifier.fromEnv(),
    fastPathTolerance: opts.fastPathTolerance,
    dashboard: opts.dashboard ? { reports: opts.reports } : false,
    ...(link ? { cluster: link } : {}),
  });
  // A switch while the router was loading (before the server followed the replica) reloads now.
  if (replica && replica.switches > 0) void server.reloader.reload("watch");
  const { url, port: actual } = await server.start(opts.port, opts.host);
  const listening: ListeningInfo = {
    listening: url,
    port: actual,
    modelVersion: server.router.version,
    providers: config.providers.map((p) => p.name),
    auth: config.auth.tokens.length + config.auth.adminTokens.length > 0,
  };
  if (link) link.listening(listening);
  else process.stdout.write(JSON.stringify(listening) + "\n");
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    if (!link) info(`triage serve: ${why}, draining in-flight requests (up to ${config.drainTimeoutMs} ms)`);
    // A dependency that stops answering (a PostgreSQL log or registry behind a dead connection, a stuck
    // encoder thread) must not hold the process forever: a deploy or a supervisor is waiting for it to exit.
    setTimeout(() => {
      info(`triage serve: shutdown did not finish ${SHUTDOWN_GRACE_MS} ms after the drain timeout; exiting with work unfinished (queued log rows may be lost)`);
      process.exit(1);
    }, config.drainTimeoutMs + SHUTDOWN_GRACE_MS).unref();
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
  // The primary is gone (killed): nothing would restart or stop this worker, so drain and exit.
  if (link) process.once("disconnect", () => stop("the primary process is gone"));
}

/** The primary of `--workers N`: checks the config and log once, then forks and supervises the workers. */
async function servePrimary(opts: ServeOptions, workers: number): Promise<void> {
  const config = configFrom(opts);
  sayEgress(config);
  // Created and migrated here, once, rather than by N workers racing to do it.
  const logPath = opts.logDb ?? config.log?.path;
  if (logPath) await (await openDecisionLog(logPath, logOpenOptions(config.log))).close();
  const code = await runPrimary({
    workers,
    drainTimeoutMs: config.drainTimeoutMs,
    conversations: { ttlMs: config.conversations.ttlMs, maxConversations: config.conversations.maxConversations },
    onListening: (listening) => process.stdout.write(JSON.stringify(listening) + "\n"),
    say: (line) => info(`triage serve: ${line}`),
  });
  process.exit(code);
}
