import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import { priceSchema } from "../config/schema.js";

export const breakerConfigSchema = z.object({
  /** Consecutive failed calls that open the circuit (any failure: transport, HTTP, or an answer that is not a label). */
  failureThreshold: z.number().int().positive().default(5),
  /** How long the circuit stays open before one trial call is let through. */
  cooldownMs: z.number().int().nonnegative().default(30_000),
});

export const fallbackConfigSchema = z.object({
  /** Any OpenAI-compatible endpoint: OpenAI, OpenRouter, a local Ollama or vLLM (".../v1"). */
  baseURL: z.url(),
  /** Local servers usually ignore it; the OpenAI client still needs a non-empty string. */
  apiKey: z.string().min(1).default("not-needed"),
  model: z.string().min(1),
  /** Bounds the whole classify() call, retries included. */
  timeoutMs: z.number().int().positive().default(1500),
  /** Extra attempts after a retryable failure (connection, 408/409/429/5xx), within timeoutMs. */
  maxRetries: z.number().int().min(0).max(5).default(1),
  breaker: breakerConfigSchema.default({ failureThreshold: 5, cooldownMs: 30_000 }),
  /** USD per 1M tokens, for the cost counters. */
  price: priceSchema.optional(),
  /**
   * "auto": ask for JSON-schema output and drop it for good if the endpoint rejects it (HTTP 400);
   * "json_schema": always ask; "off": never ask, rely on strict parsing.
   */
  structuredOutput: z.enum(["auto", "json_schema", "off"]).default("auto"),
  /** Nearest labelled examples put in the prompt. */
  maxExamples: z.number().int().min(0).default(8),
  /** Longer queries are cut before sending, to bound cost. */
  maxTextChars: z.number().int().positive().default(4000),
  maxOutputTokens: z.number().int().positive().default(64),
});

/** What callers write (defaults optional). */
export type FallbackConfigInput = z.input<typeof fallbackConfigSchema>;
/** After defaults. */
export type FallbackConfig = z.output<typeof fallbackConfigSchema>;

export function parseFallbackConfig(input: unknown, where = "fallback config"): FallbackConfig {
  const parsed = fallbackConfigSchema.safeParse(input);
  if (!parsed.success) throw new TriageError(`${where}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

const OPENAI_BASE_URL = "https://api.openai.com/v1";
const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";

/**
 * Reads the endpoint from the environment:
 * TRIAGE_FALLBACK_BASE_URL / TRIAGE_FALLBACK_API_KEY / TRIAGE_FALLBACK_MODEL / TRIAGE_FALLBACK_TIMEOUT_MS /
 * TRIAGE_FALLBACK_BREAKER_THRESHOLD / TRIAGE_FALLBACK_BREAKER_COOLDOWN_MS,
 * with OPENAI_BASE_URL / OPENAI_API_KEY as fallbacks. Returns undefined when neither a base URL nor a
 * key is set. A key alone means api.openai.com (model gpt-4o-mini unless TRIAGE_FALLBACK_MODEL is set);
 * a base URL without TRIAGE_FALLBACK_MODEL is an error, since a local server's model name cannot be guessed.
 */
export function fallbackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): FallbackConfig | undefined {
  const nonEmpty = (name: string) => (env[name] !== undefined && env[name] !== "" ? env[name] : undefined);
  const baseURL = nonEmpty("TRIAGE_FALLBACK_BASE_URL") ?? nonEmpty("OPENAI_BASE_URL");
  const apiKey = nonEmpty("TRIAGE_FALLBACK_API_KEY") ?? nonEmpty("OPENAI_API_KEY");
  if (baseURL === undefined && apiKey === undefined) return undefined;
  let model = nonEmpty("TRIAGE_FALLBACK_MODEL");
  if (model === undefined) {
    if (baseURL !== undefined && baseURL.replace(/\/+$/, "") !== OPENAI_BASE_URL) throw new TriageError(`TRIAGE_FALLBACK_MODEL is not set: name the model to ask at ${baseURL}`);
    model = DEFAULT_OPENAI_MODEL;
  }
  const timeoutMs = intFromEnv(nonEmpty, "TRIAGE_FALLBACK_TIMEOUT_MS", 1, "a positive integer of milliseconds");
  const failureThreshold = intFromEnv(nonEmpty, "TRIAGE_FALLBACK_BREAKER_THRESHOLD", 1, "a positive integer");
  const cooldownMs = intFromEnv(nonEmpty, "TRIAGE_FALLBACK_BREAKER_COOLDOWN_MS", 0, "a non-negative integer of milliseconds");
  // The schema fills in whichever of the two is not set.
  const breaker = { ...(failureThreshold !== undefined ? { failureThreshold } : {}), ...(cooldownMs !== undefined ? { cooldownMs } : {}) };
  return parseFallbackConfig(
    { baseURL: baseURL ?? OPENAI_BASE_URL, apiKey, model, ...(timeoutMs !== undefined ? { timeoutMs } : {}), breaker },
    "fallback endpoint from the environment (TRIAGE_FALLBACK_* / OPENAI_*)",
  );
}

/** An integer variable of at least `min`, or undefined when unset; anything else is an error naming it. */
function intFromEnv(nonEmpty: (name: string) => string | undefined, name: string, min: number, what: string): number | undefined {
  const text = nonEmpty(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new TriageError(`${name}: expected ${what}, got "${text}"`);
  return value;
}
