import type { Command } from "commander";
import { createInterface } from "node:readline";
import { TriageError } from "../../common/errors.js";
import { stripBom } from "../../common/text-file.js";
import { fallbackConfigFromEnv, LlmClassifier, parseFallbackConfig, type FallbackConfig } from "../../fallback/index.js";
import { openRouter } from "../../outcomes/open.js";
import type { Decision, LowConfidencePolicy } from "../../router/types.js";
import { openDecisionLog, type TextMode } from "../../store/index.js";
import { logDbOption } from "../log-db.js";
import { exitAfterThreads, info } from "../output.js";
import { FAST_PATH_TOLERANCE_HELP, positiveInt, unitInterval } from "../parse.js";
import { cutsOf, explain } from "../reason.js";
import { readable, tableHeader, tableRow, type RouteTable } from "../route-output.js";
import { dialFromFlags } from "../dial-flags.js";

interface RouteOptions {
  model: string;
  topK: number;
  format: string;
  logDb?: string;
  textMode: string;
  policy?: string;
  fallbackBaseUrl?: string;
  fallbackModel?: string;
  fallbackApiKey?: string;
  fallbackTimeoutMs?: number;
  fastPathTolerance?: number;
  /** false with --no-fast-path. */
  fastPath: boolean;
  quality?: string;
  maxCost?: string;
}

export function registerRoute(program: Command): void {
  program
    .command("route")
    .description("classify queries: the TEXT argument, or one query per stdin line; prints one JSON object per query (label, model, confidence, reason first), or a table")
    .argument("[text...]", "query text (omit to read stdin)")
    .requiredOption("--model <dir>", "model artifact directory, or a model registry (its current version)")
    .option("--format <format>", "json (one object per line) | table (text, label, model, confidence, reason)", "json")
    .option("--top-k <n>", "neighbours to include", positiveInt, 3)
    .addOption(logDbOption("every decision is logged there, flushed on exit", false))
    .option("--text-mode <mode>", "how the log keeps query text: store (retraining needs it) | hash | redact", "store")
    .option("--policy <policy>", "override the model's low-confidence policy: escalate | abstain | fallback")
    .option("--fallback-base-url <url>", "OpenAI-compatible endpoint asked below the margin (env TRIAGE_FALLBACK_BASE_URL)")
    .option("--fallback-model <name>", "model to ask there (env TRIAGE_FALLBACK_MODEL)")
    .option("--fallback-api-key <key>", "API key (env TRIAGE_FALLBACK_API_KEY or OPENAI_API_KEY)")
    .option("--fallback-timeout-ms <n>", "per-query budget of the fallback, retries included (default 1500)", positiveInt)
    .option("--fast-path-tolerance <x>", FAST_PATH_TOLERANCE_HELP, unitInterval)
    .option("--no-fast-path", "always embed with the full encoder (skip the static stage)")
    .option("--quality <share>", "outcome models: quality floor relative to the strongest model, e.g. 0.95 (default: the model's)")
    .option("--max-cost <share>", "outcome models: cost ceiling relative to the strongest model, e.g. 0.3 (instead of --quality)")
    .action(async (words: string[], opts: RouteOptions) => {
      if (opts.format !== "json" && opts.format !== "table") throw new TriageError(`--format: expected json or table, got "${opts.format}"`);
      const dial = opts.quality !== undefined || opts.maxCost !== undefined ? dialFromFlags(opts.quality, opts.maxCost) : undefined;
      const textMode = parseTextMode(opts.textMode);
      const policy = parsePolicy(opts.policy);
      const fallbackConfig = fallbackFrom(opts);
      const log = opts.logDb ? await openDecisionLog(opts.logDb, { textMode }) : undefined;
      const router = await openRouter(opts.model, {
        ...(log ? { sink: log } : {}),
        ...(policy ? { lowConfidence: policy } : {}),
        ...(fallbackConfig ? { fallback: new LlmClassifier(fallbackConfig) } : {}),
        cascade: opts.fastPath,
        fastPathTolerance: opts.fastPathTolerance,
        onWarning: (m) => info(`warning: ${m}`),
      });
      if ((policy ?? router.manifest.config.policy.lowConfidence) === "fallback" && !fallbackConfig)
        info("warning: the policy is fallback but no endpoint is configured (--fallback-base-url / TRIAGE_FALLBACK_*): low-margin queries escalate");
      // Ctrl-C / kill: write the queued decisions before exiting (the log's own exit hook does not see signals).
      const onSignal = (signal: NodeJS.Signals) => {
        void Promise.resolve(log?.close()).finally(() => exitAfterThreads(signal === "SIGINT" ? 130 : 143));
      };
      if (log) {
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      }
      if (dial && router.kind !== "outcomes") info("warning: --quality / --max-cost apply to outcome models only; this is a tier model");
      // An outcome model's label is the model to call, and its decision says why in `outcome`.
      const outcomes = router.kind === "outcomes";
      const cuts = outcomes ? undefined : cutsOf(router.manifest, opts.fastPathTolerance);
      const models: Record<string, string | null> = outcomes
        ? Object.fromEntries(router.labels.map((l) => [l, l]))
        : Object.fromEntries(router.manifest.config.labels.map((l) => [l.name, l.model ?? null]));
      const layout: RouteTable = { labels: router.labels, models: Object.values(models) };
      if (opts.format === "table") process.stdout.write(tableHeader(layout) + "\n");
      const route = async (text: string) => {
        const d: Decision = await router.classify(text, { topK: opts.topK, ...(dial ? { dial } : {}) });
        const reason = d.outcome ? d.outcome.why : explain({ ...d, nearest: d.neighbours[0]?.similarity }, cuts);
        const shown = { ...readable(d, text, models[d.label] ?? null, reason), ...(d.outcome ? { outcome: d.outcome } : {}) };
        process.stdout.write((opts.format === "table" ? tableRow(layout, shown) : JSON.stringify(shown)) + "\n");
      };
      try {
        if (words.length > 0) await route(words.join(" "));
        else {
          let first = true;
          for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
            const line = first ? stripBom(raw) : raw; // a queries file saved with a BOM
            first = false;
            if (line.trim() === "") continue;
            await route(line);
          }
        }
      } finally {
        await log?.close();
        await router.close();
      }
    });
}

function parseTextMode(mode: string): TextMode {
  if (mode === "store" || mode === "hash" || mode === "redact") return mode;
  throw new TriageError(`--text-mode: expected store, hash or redact, got "${mode}"`);
}

function parsePolicy(policy: string | undefined): LowConfidencePolicy | undefined {
  if (policy === undefined || policy === "escalate" || policy === "abstain" || policy === "fallback") return policy;
  throw new TriageError(`--policy: expected escalate, abstain or fallback, got "${policy}"`);
}

/** Flags override the environment (TRIAGE_FALLBACK_* / OPENAI_*); undefined when neither names an endpoint. */
function fallbackFrom(opts: RouteOptions): FallbackConfig | undefined {
  const env = { ...process.env };
  if (opts.fallbackBaseUrl) env.TRIAGE_FALLBACK_BASE_URL = opts.fallbackBaseUrl;
  if (opts.fallbackModel) env.TRIAGE_FALLBACK_MODEL = opts.fallbackModel;
  if (opts.fallbackApiKey) env.TRIAGE_FALLBACK_API_KEY = opts.fallbackApiKey;
  const fromEnv = fallbackConfigFromEnv(env);
  if (!fromEnv) return undefined;
  return opts.fallbackTimeoutMs ? parseFallbackConfig({ ...fromEnv, timeoutMs: opts.fallbackTimeoutMs }, "--fallback-timeout-ms") : fromEnv;
}
