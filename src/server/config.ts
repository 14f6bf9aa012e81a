/**
 * Server configuration: a YAML/JSON file (all optional) plus the environment. Everything has a safe
 * default so `triage serve --model DIR` runs with no file at all (no providers: routing only).
 */
import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError, loadStructuredFile } from "../config/load.js";
import { priceSchema } from "../config/schema.js";
import { breakerConfigSchema } from "../fallback/config.js";
import { decisionLogConfigSchema } from "../store/config.js";

export const providerConfigSchema = z
  .object({
    name: z.string().min(1),
    /** OpenAI-compatible base URL, ending in /v1 (OpenAI, OpenRouter, vLLM, Ollama...). */
    baseURL: z.url(),
    /** The key itself; prefer apiKeyEnv so the file holds no secret. */
    apiKey: z.string().min(1).optional(),
    /** Name of the environment variable that holds the key. */
    apiKeyEnv: z.string().min(1).optional(),
    /** Non-streaming: the whole call; streaming: until the first byte. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** Extra attempts at this provider before failing over to the next (still within the retry budget). */
    retries: z.number().int().min(0).max(5).default(0),
    /** Extra headers sent upstream (e.g. OpenRouter's HTTP-Referer). */
    headers: z.record(z.string(), z.string()).default({}),
    breaker: breakerConfigSchema.default({ failureThreshold: 5, cooldownMs: 30_000 }),
  })
  .strict()
  .refine((p) => !(p.apiKey !== undefined && p.apiKeyEnv !== undefined), { message: "give apiKey or apiKeyEnv, not both" });

/** Per-tier overrides of the model artifact's tiers config (same field names). */
export const tierOverrideSchema = z
  .object({
    model: z.string().min(1).optional(),
    providers: z.array(z.string().min(1)).min(1).optional(),
    maxTokens: z.number().int().positive().optional(),
    systemPrompt: z.string().optional(),
    price: priceSchema.optional(),
  })
  .strict();

/** RFC 6750's token characters: anything else could never be presented in an Authorization header. */
const bearerToken = z
  .string()
  .min(8, "a key needs at least 8 characters")
  .regex(/^[A-Za-z0-9._~+/-]+=*$/, "a bearer token may use only letters, digits and . _ ~ + / - (then = padding)");

export const DEFAULT_UNCERTAIN_PHRASES = [
  "i'm not sure",
  "i am not sure",
  "i don't know",
  "i do not know",
  "i cannot help",
  "i can't help",
  "i'm unable to",
  "i am unable to",
  "as an ai",
];

export const serverConfigSchema = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    providers: z.array(providerConfigSchema).default([]),
    tiers: z.record(z.string(), tierOverrideSchema).default({}),
    models: z
      .object({
        /** Request `model` names that route across every tier. */
        auto: z.array(z.string().min(1)).default(["auto"]),
        /** Route groups: a model name that routes within a subset of the tiers. */
        groups: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
        /** Any other model name is forwarded as is (no routing, no gates); false answers 404. */
        passthrough: z.boolean().default(true),
        /** Providers for pass-through requests; default: all, in config order. */
        passthroughProviders: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .default({ auto: ["auto"], groups: {}, passthrough: true }),
    routing: z
      .object({
        /** Earlier messages (user and assistant) routed on along with the last user message. */
        contextMessages: z.number().int().min(0).default(0),
        /** Context is cut from its start beyond this, so the last user message is never truncated away. */
        contextMaxChars: z.number().int().positive().default(2000),
        /** Outcome models: default quality floor relative to the strongest model (a request's x-triage-quality wins). */
        quality: z.number().gt(0).lte(1).optional(),
        /** Outcome models: default cost ceiling relative to the strongest model (instead of quality). */
        maxCost: z.number().min(0).optional(),
      })
      .strict()
      .refine((r) => r.quality === undefined || r.maxCost === undefined, { message: "give routing.quality or routing.maxCost, not both" })
      .default({ contextMessages: 0, contextMaxChars: 2000 }),
    /** Chat conversations stay on the model of their first turn (proxy/conversations.ts). */
    conversations: z
      .object({
        enabled: z.boolean().default(true),
        /** How long after its last turn a conversation's model is remembered. */
        ttlMs: z
          .number()
          .int()
          .positive()
          .default(30 * 60_000),
        /** Conversations remembered at once; the least recently active are forgotten first. */
        maxConversations: z.number().int().positive().default(100_000),
        /** Routing may move a conversation to a dearer model when a later turn needs one (a failed gate always does). */
        upOnRoute: z.boolean().default(false),
        /** Routing may move a conversation to a cheaper model mid-conversation. */
        down: z.boolean().default(false),
      })
      .strict()
      .default({ enabled: true, ttlMs: 30 * 60_000, maxConversations: 100_000, upOnRoute: false, down: false }),
    /**
     * The parallel pattern (off by default): a request routed to either tier of `pair` calls both at once,
     * and gets the cheaper one's answer when the two agree (embedding similarity of the answers at or above
     * `threshold`), else the stronger one's. Both calls are paid for. Non-streaming requests only.
     */
    parallel: z
      .object({
        enabled: z.boolean().default(false),
        /** Two tiers (or an outcome model's models), either order. */
        pair: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
        threshold: z.number().min(-1).max(1).default(0.9),
      })
      .strict()
      .refine((p) => !p.enabled || (p.pair !== undefined && p.pair[0] !== p.pair[1]), { message: "parallel.enabled needs a pair of two different tiers" })
      .default({ enabled: false, threshold: 0.9 }),
    /** The tier's system prompt: "prepend" a system message, "merge" into the caller's first system message, or "off". */
    systemPrompt: z.enum(["prepend", "merge", "off"]).default("prepend"),
    escalation: z
      .object({
        /** Tier order for escalation; default: the model's labels in cost order. */
        path: z.array(z.string().min(1)).min(2).optional(),
        maxHops: z.number().int().min(0).default(1),
      })
      .strict()
      .default({ maxHops: 1 }),
    gates: z
      .object({
        enabled: z.boolean().default(true),
        /** Answers shorter than this (trimmed characters) fail. 0 disables. */
        minChars: z.number().int().min(0).default(1),
        /** Case-insensitive phrases that mark an uncertain answer or a refusal. */
        phrases: z.array(z.string().min(1)).default(DEFAULT_UNCERTAIN_PHRASES),
        /** When response_format asks for JSON, an answer that does not parse fails. */
        json: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: true, minChars: 1, phrases: DEFAULT_UNCERTAIN_PHRASES, json: true }),
    retry: z
      .object({
        /** Upstream calls per tier attempt, failovers and retries included. */
        maxAttempts: z.number().int().positive().default(3),
        /** Retries and failovers allowed per request, on average (a token bucket refilled per request). */
        budgetRatio: z.number().min(0).max(10).default(0.5),
        /** Tokens the bucket starts with and never refills beyond: lets a quiet server still fail over. */
        budgetBurst: z.number().int().min(0).default(20),
      })
      .strict()
      .default({ maxAttempts: 3, budgetRatio: 0.5, budgetBurst: 20 }),
    auth: z
      .object({
        /** Data-plane keys: /v1/route, /v1/chat/completions, /v1/models, /v1/feedback and /metrics. */
        tokens: z.array(bearerToken).default([]),
        /** Admin keys: /admin/* and /v1/stats, and everything a data-plane key may call. */
        adminTokens: z.array(bearerToken).default([]),
      })
      .strict()
      .default({ tokens: [], adminTokens: [] }),
    bodyLimitBytes: z.number().int().positive().default(1_000_000),
    /** Whole-request deadline for non-streaming calls (escalations included); streams are bounded until their first byte. */
    requestTimeoutMs: z.number().int().positive().default(120_000),
    /** A started stream whose provider sends nothing for this long is ended with an error event. */
    streamIdleTimeoutMs: z.number().int().positive().default(30_000),
    /** How long shutdown waits for in-flight requests (streams included) before cutting them. */
    drainTimeoutMs: z.number().int().positive().default(30_000),
    cors: z
      .object({ origins: z.array(z.string().min(1)).default([]) })
      .strict()
      .default({ origins: [] }),
    reload: z
      .object({
        /** Poll the artifact's manifest.json (or the registry's `current` file) and reload on change. */
        watch: z.boolean().default(true),
        intervalMs: z.number().int().positive().default(1000),
      })
      .strict()
      .default({ watch: true, intervalMs: 1000 }),
    /** The decision log: path (or --log-db), text cap, durability, retention applied while serving. */
    log: decisionLogConfigSchema.optional(),
  })
  .strict();

export type ServerConfigInput = z.input<typeof serverConfigSchema>;
export type ServerConfig = z.output<typeof serverConfigSchema>;
export type ProviderConfig = z.output<typeof providerConfigSchema>;
export type TierOverride = z.output<typeof tierOverrideSchema>;

/** A provider with its key resolved (never printed or returned). */
export interface ResolvedProvider extends Omit<ProviderConfig, "apiKey" | "apiKeyEnv"> {
  apiKey: string;
}

export function parseServerConfig(input: unknown, where = "server config"): ServerConfig {
  const parsed = serverConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw new TriageError(`${where}: ${formatZodError(parsed.error)}`);
  const names = new Set<string>();
  for (const p of parsed.data.providers) {
    if (names.has(p.name)) throw new TriageError(`${where}: providers: "${p.name}" is listed twice`);
    names.add(p.name);
  }
  const known = (list: string[] | undefined, field: string) => {
    for (const n of list ?? []) if (!names.has(n)) throw new TriageError(`${where}: ${field}: unknown provider "${n}"`);
  };
  for (const [tier, t] of Object.entries(parsed.data.tiers)) known(t.providers, `tiers.${tier}.providers`);
  known(parsed.data.models.passthroughProviders, "models.passthroughProviders");
  return parsed.data;
}

/**
 * File (optional) + environment. TRIAGE_API_KEYS (comma-separated) adds data-plane bearer tokens,
 * TRIAGE_ADMIN_KEYS admin ones;
 * TRIAGE_PROVIDER_BASE_URL (+ TRIAGE_PROVIDER_API_KEY) adds a provider named "default" when the file names none.
 */
export function loadServerConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const base = path ? loadStructuredFile(path, serverConfigSchema) : parseServerConfig({});
  const config = parseServerConfig(base, path ?? "server config");
  config.auth.tokens = [...config.auth.tokens, ...envKeys(env, "TRIAGE_API_KEYS")];
  config.auth.adminTokens = [...config.auth.adminTokens, ...envKeys(env, "TRIAGE_ADMIN_KEYS")];
  const baseURL = env.TRIAGE_PROVIDER_BASE_URL;
  if (baseURL && config.providers.length === 0) {
    config.providers = parseServerConfig(
      { providers: [{ name: "default", baseURL, ...(env.TRIAGE_PROVIDER_API_KEY ? { apiKeyEnv: "TRIAGE_PROVIDER_API_KEY" } : {}) }] },
      "TRIAGE_PROVIDER_BASE_URL",
    ).providers;
  }
  return config;
}

/** A comma-separated key list from the environment, each checked like a config token (the error never shows the key). */
function envKeys(env: NodeJS.ProcessEnv, name: string): string[] {
  const keys = (env[name] ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  keys.forEach((k, i) => {
    const parsed = bearerToken.safeParse(k);
    if (!parsed.success)
      throw new TriageError(
        `environment variable ${name}: key ${i + 1} of ${keys.length} (${k.length} characters): ${parsed.error.issues[0].message}; ` +
          "keys are comma-separated, at least 8 characters each, e.g. from `openssl rand -hex 24`",
      );
  });
  return keys;
}

/** Reads each provider's key from the config or its environment variable; a missing variable is a startup error. */
export function resolveProviders(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): ResolvedProvider[] {
  return config.providers.map(({ apiKey, apiKeyEnv, ...rest }) => {
    let key = apiKey;
    if (apiKeyEnv !== undefined) {
      key = env[apiKeyEnv];
      if (!key) throw new TriageError(`provider "${rest.name}": environment variable ${apiKeyEnv} is not set`);
    }
    // Local servers ignore the key; OpenAI-compatible clients still send one.
    return { ...rest, apiKey: key ?? "not-needed" };
  });
}
