import type OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { tokenCostUsd } from "../config/price.js";
import { type BreakerChange, type BreakerListener, type BreakerState, CircuitBreaker } from "../common/breaker.js";
import { fallbackConfigFromEnv, parseFallbackConfig, type FallbackConfig, type FallbackConfigInput } from "./config.js";
import { buildMessages, labelResponseFormat, parseLabelAnswer, type LabelChoice, type LabelledExample } from "./prompt.js";
import { FallbackStatsCollector, type FallbackFailureKind, type FallbackStats } from "./stats.js";

export interface FallbackRequest {
  text: string;
  /** The allowed answers, with descriptions from the routes config. */
  labels: readonly LabelChoice[];
  /** A few nearest labelled examples (the kNN neighbours); at most config.maxExamples are sent. */
  examples?: readonly LabelledExample[];
  /** The local model's top-1, for the agreement counter. */
  localLabel?: string;
}

export interface FallbackResult {
  /** An allowed label, or null on any failure. */
  label: string | null;
  latencyMs: number;
  /** What went wrong, for logs: "circuit open", "invalid label ...", "timeout after 1500 ms", "HTTP 500: ..." */
  error?: string;
  failure?: FallbackFailureKind;
  usage?: { promptTokens: number; completionTokens: number };
  /** Set when the config has a price and the endpoint reported usage. */
  costUsd?: number;
}

export interface LlmClassifierOptions {
  /** Hears what the classifier's own calls do to its circuit breaker (see onBreakerChange). */
  onBreakerChange?: BreakerListener;
}

const MIN_ATTEMPT_MS = 50; // no retry when less than this would be left for it
const BASE_BACKOFF_MS = 100;

class Failure extends Error {
  constructor(
    readonly kind: FallbackFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Asks an OpenAI-compatible chat endpoint to pick one of the allowed labels. classify() never throws:
 * every failure (timeout, HTTP error, junk, unknown label, open circuit) comes back as label null + error.
 */
export class LlmClassifier {
  readonly config: FallbackConfig;
  /** The SDK is imported in the background when the classifier is built: commands without a fallback never load it. */
  private readonly sdk: Promise<{ Sdk: Sdk; client: OpenAI }>;
  private readonly breaker: CircuitBreaker;
  private readonly counters: FallbackStatsCollector;
  /** Turns false (for good) when an "auto" endpoint rejects response_format and accepts the same request without it. */
  private sendResponseFormat: boolean;
  private breakerNews: BreakerListener | undefined;

  constructor(config: FallbackConfigInput, options: LlmClassifierOptions = {}) {
    this.config = parseFallbackConfig(config);
    // Retries are ours (below), so that they stay inside timeoutMs; the client's own backoff sleep cannot be cut short.
    const { baseURL, apiKey, timeoutMs } = this.config;
    this.sdk = import("openai").then(({ default: Sdk }) => ({ Sdk, client: new Sdk({ baseURL, apiKey, timeout: timeoutMs, maxRetries: 0 }) }));
    this.sdk.catch(() => undefined); // a failed import is reported by the first classify(), not as an unhandled rejection
    this.breakerNews = options.onBreakerChange;
    this.breaker = new CircuitBreaker(this.config.breaker.failureThreshold, this.config.breaker.cooldownMs, Date.now, (change) => this.tell(change));
    this.counters = new FallbackStatsCollector(this.config.price !== undefined);
    this.sendResponseFormat = this.config.structuredOutput !== "off";
  }

  /** A classifier for the endpoint configured in the environment, or undefined when there is none. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): LlmClassifier | undefined {
    const config = fallbackConfigFromEnv(env);
    return config ? new LlmClassifier(config) : undefined;
  }

  /**
   * From now on `listener` (none: nobody) hears what this classifier's own calls do to its breaker: opened,
   * closed, a failure counted or a count cleared while closed; a success with no failures counted says nothing.
   */
  onBreakerChange(listener: BreakerListener | undefined): void {
    this.breakerNews = listener;
  }

  /** Another process's classifier for the same endpoint told `change`: this breaker does the same, without telling it again. */
  applyBreakerChange(change: BreakerChange): void {
    this.breaker.apply(change);
  }

  stats(): FallbackStats {
    return this.counters.snapshot(this.breaker.state);
  }

  /** The endpoint's circuit: closed (calls go out), open (failing fast after repeated failures), half-open (one trial call decides). */
  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  async classify(request: FallbackRequest): Promise<FallbackResult> {
    const started = performance.now();
    let result: FallbackResult;
    try {
      result = await this.run(request, started);
    } catch (err) {
      // Defensive: run() maps every expected failure itself; anything else still must not reach the router.
      result = this.failed(started, err instanceof Failure ? err : new Failure("invalid_response", `unexpected error: ${String(err)}`));
    }
    this.counters.record({ ...result, localLabel: request.localLabel });
    return result;
  }

  private async run(request: FallbackRequest, started: number): Promise<FallbackResult> {
    const names = request.labels.map((l) => l.name);
    if (names.length === 0) return this.failed(started, new Failure("bad_request", "no labels to choose from"));
    const examples = (request.examples ?? []).slice(0, this.config.maxExamples);
    const text = request.text.slice(0, this.config.maxTextChars);
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.config.model,
      messages: buildMessages(text, request.labels, examples),
      temperature: 0,
      max_tokens: this.config.maxOutputTokens,
    };
    const { Sdk, client } = await this.sdk;
    // Acquired last: from here on every path reports success or failure to the breaker.
    if (!this.breaker.tryAcquire()) return this.failed(started, new Failure("circuit_open", "circuit open"));

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.config.timeoutMs);
    try {
      const completion = await this.complete(Sdk, client, body, names, deadline.signal, started);
      const parsed = this.readCompletion(completion, new Set(names));
      if ("error" in parsed) {
        this.breaker.onFailure();
        return { ...this.failed(started, new Failure(parsed.kind, parsed.error)), ...parsed.accounting };
      }
      this.breaker.onSuccess();
      return { label: parsed.label, latencyMs: performance.now() - started, ...parsed.accounting };
    } catch (err) {
      this.breaker.onFailure();
      const failure =
        deadline.signal.aborted || err instanceof Sdk.APIConnectionTimeoutError ? new Failure("timeout", `timeout after ${this.config.timeoutMs} ms`) : toFailure(Sdk, err);
      return this.failed(started, failure);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One logical call: bounded retries, all inside the deadline. */
  private async complete(Sdk: Sdk, client: OpenAI, body: ChatCompletionCreateParamsNonStreaming, names: string[], deadline: AbortSignal, started: number): Promise<unknown> {
    let withFormat = this.sendResponseFormat;
    let retriesLeft = this.config.maxRetries;
    for (;;) {
      const remaining = this.config.timeoutMs - (performance.now() - started);
      const attemptBody = withFormat ? { ...body, response_format: labelResponseFormat(names) } : body;
      try {
        const completion = await untilAborted(
          client.chat.completions.create(attemptBody, { signal: deadline, timeout: Math.max(1, Math.ceil(remaining)), maxRetries: 0 }),
          deadline,
        );
        if (!withFormat && this.sendResponseFormat) this.sendResponseFormat = false; // the 400 was about response_format
        return completion;
      } catch (err) {
        if (deadline.aborted) throw err;
        if (withFormat && this.config.structuredOutput === "auto" && err instanceof Sdk.APIError && err.status === 400) {
          withFormat = false; // maybe the endpoint does not do json_schema: try once without it
          continue;
        }
        if (!isRetryable(Sdk, err) || retriesLeft <= 0) throw err;
        const wait = backoffMs(Sdk, err, this.config.maxRetries - retriesLeft);
        if (this.config.timeoutMs - (performance.now() - started) - wait < MIN_ATTEMPT_MS) throw err;
        retriesLeft--;
        await sleep(wait, deadline);
      }
    }
  }

  private readCompletion(
    completion: unknown,
    allowed: ReadonlySet<string>,
  ): { label: string; accounting: Accounting } | { error: string; kind: FallbackFailureKind; accounting: Accounting } {
    const c = completion as Partial<OpenAI.ChatCompletion> | null;
    const accounting = this.account(c?.usage);
    const message = Array.isArray(c?.choices) ? c.choices[0]?.message : undefined;
    if (!message) return { error: `invalid response: not a chat completion (${preview(completion)})`, kind: "invalid_response", accounting };
    if (typeof message.content !== "string") {
      const why = message.refusal ? `refused: ${message.refusal}` : "no content";
      return { error: `invalid response: ${why}`, kind: "invalid_response", accounting };
    }
    const parsed = parseLabelAnswer(message.content, allowed);
    return "label" in parsed ? { label: parsed.label, accounting } : { error: parsed.error, kind: "invalid_label", accounting };
  }

  private account(usage: OpenAI.CompletionUsage | undefined): Accounting {
    if (!usage || typeof usage.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") return {};
    const tokens = { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
    const price = this.config.price;
    if (!price) return { usage: tokens };
    return { usage: tokens, costUsd: tokenCostUsd(price, tokens.promptTokens, tokens.completionTokens) };
  }

  private tell(change: BreakerChange): void {
    try {
      this.breakerNews?.(change);
    } catch {
      // the breaker has changed all the same, and classify() must not fail for a listener
    }
  }

  private failed(started: number, failure: Failure): FallbackResult {
    return { label: null, latencyMs: performance.now() - started, error: failure.message, failure: failure.kind };
  }
}

type Accounting = Pick<FallbackResult, "usage" | "costUsd">;

/** The SDK's client class, which also carries its error classes. */
type Sdk = typeof OpenAI;

function toFailure(Sdk: Sdk, err: unknown): Failure {
  if (err instanceof Sdk.APIConnectionError) return new Failure("connection", `connection failed: ${describeCause(err)}`);
  if (err instanceof Sdk.APIError && typeof err.status === "number") {
    const detail = `HTTP ${err.status}: ${err.error && typeof err.error === "object" && "message" in err.error ? String(err.error.message) : err.message}`;
    if (err.status === 429) return new Failure("rate_limit", `rate limited (${detail})`);
    if (err.status >= 500) return new Failure("server_error", detail);
    return new Failure("http_error", detail);
  }
  // e.g. a SyntaxError from a body that claims to be JSON and is not
  return new Failure("invalid_response", `invalid response: ${err instanceof Error ? err.message : String(err)}`);
}

/** The innermost cause says what happened ("connect ECONNREFUSED 127.0.0.1:8000"), the outer ones only "fetch failed". */
function describeCause(err: Error): string {
  let inner: unknown = err;
  for (let depth = 0; depth < 5 && inner instanceof Error && inner.cause instanceof Error; depth++) inner = inner.cause;
  return inner instanceof Error && inner !== err ? inner.message : err.message;
}

function isRetryable(Sdk: Sdk, err: unknown): boolean {
  if (err instanceof Sdk.APIConnectionTimeoutError) return false; // the budget is already spent
  if (err instanceof Sdk.APIConnectionError) return true;
  if (err instanceof Sdk.APIError && typeof err.status === "number") return err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
  return false;
}

/** The server's retry-after(-ms) when given, else exponential backoff with jitter. */
function backoffMs(Sdk: Sdk, err: unknown, retryIndex: number): number {
  if (err instanceof Sdk.APIError && err.headers) {
    const ms = Number(err.headers.get("retry-after-ms"));
    if (Number.isFinite(ms) && ms >= 0 && err.headers.get("retry-after-ms") !== null) return ms;
    const seconds = Number(err.headers.get("retry-after"));
    if (Number.isFinite(seconds) && seconds >= 0 && err.headers.get("retry-after") !== null) return seconds * 1000;
  }
  return BASE_BACKOFF_MS * 2 ** retryIndex * (1 - Math.random() * 0.25);
}

/** Settles with the promise, or rejects as soon as the signal aborts (whatever the promise is still doing). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // its late rejection is expected and already handled by the race
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function preview(value: unknown): string {
  const s = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
