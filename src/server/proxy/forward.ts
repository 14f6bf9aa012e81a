/**
 * One chat request to an ordered list of providers: failover on timeouts, 408/409/429/5xx, connection
 * errors and unusable answers; other 4xx go back to the caller (the request itself is wrong). A stream
 * is committed to its provider once its first event has been checked (sse-start.ts): nothing is retried
 * after that, because the caller may already have shown part of the answer.
 *
 * Only a provider's own answer, or its absence (timeout, refused connection), moves its circuit breaker
 * and the retry budget. A body that cannot be serialised fails before any provider is tried, as the
 * caller's 400; a caller who leaves releases a half-open breaker's trial without judging the provider.
 */
import { ApiError, toErrorStatus } from "../errors.js";
import type { Provider, ProviderPool } from "./providers.js";
import { egressOf } from "./egress.js";
import { PostAborted, postJson } from "./post-json.js";
import { checkStreamStart } from "./sse-start.js";

export type AttemptOutcome = "ok" | "timeout" | "connection" | "status" | "invalid" | "circuit-open" | "budget" | "cancelled";

export interface AttemptRecord {
  provider: string;
  outcome: AttemptOutcome;
  status?: number;
  /** For the caller: scrubbed of provider keys and addresses. */
  message?: string;
  /** For the server log only: may name the upstream address (never a key). */
  detail?: string;
  ms: number;
}

export interface ForwardOptions {
  stream: boolean;
  /** The caller went away or the request deadline passed. */
  signal?: AbortSignal;
  /** Upstream calls for this tier, failovers and retries included. */
  maxAttempts: number;
}

export type ForwardResult =
  | { kind: "json"; provider: string; body: Record<string, unknown>; attempts: AttemptRecord[] }
  /** The SSE body, first chunk included; the caller must consume or cancel it. */
  | { kind: "stream"; provider: string; body: ReadableStream<Uint8Array>; attempts: AttemptRecord[] }
  | { kind: "error"; error: ApiError; attempts: AttemptRecord[] };

type CallResult =
  | { ok: true; json?: Record<string, unknown>; stream?: ReadableStream<Uint8Array> }
  | { ok: false; outcome: Exclude<AttemptOutcome, "ok" | "circuit-open" | "budget">; retryable: boolean; status?: number; message: string; detail?: string };

const RETRYABLE_STATUS = new Set([408, 409, 429]);

export async function forward(pool: ProviderPool, providerNames: readonly string[], body: Record<string, unknown>, options: ForwardOptions): Promise<ForwardResult> {
  const attempts: AttemptRecord[] = [];
  let payload: string;
  try {
    payload = JSON.stringify(body);
  } catch (err) {
    // Nothing left for a provider: the caller's body is what is wrong (nesting too deep, a cycle, a BigInt).
    return {
      kind: "error",
      error: new ApiError(400, `the request cannot be sent upstream: ${(err as Error).message}`, "invalid_request_error", null, "unserialisable_request"),
      attempts,
    };
  }
  let calls = 0;
  let last: CallResult | undefined;
  outer: for (const name of providerNames) {
    const provider = pool.get(name);
    if (!provider) continue;
    for (let t = 0; t <= provider.retries; t++) {
      if (calls >= options.maxAttempts) break outer;
      if (calls > 0 && !pool.budget.tryWithdraw()) {
        attempts.push({ provider: name, outcome: "budget", message: "retry budget exhausted", ms: 0 });
        break outer;
      }
      if (!provider.circuit.tryAcquire()) {
        attempts.push({ provider: name, outcome: "circuit-open", ms: 0 });
        continue outer;
      }
      calls++;
      const started = performance.now();
      const result = await callOnce(pool, provider, payload, options);
      const ms = performance.now() - started;
      if (result.ok) {
        provider.circuit.onSuccess();
        attempts.push({ provider: name, outcome: "ok", ms });
        if (result.stream) return { kind: "stream", provider: name, body: result.stream, attempts };
        return { kind: "json", provider: name, body: result.json!, attempts };
      }
      attempts.push({ provider: name, outcome: result.outcome, status: result.status, message: result.message, detail: result.detail, ms });
      last = result;
      if (result.outcome === "cancelled") {
        // Not the provider's doing: free a half-open trial slot without counting a success or a failure.
        provider.circuit.release();
        return { kind: "error", error: new ApiError(408, "request cancelled or timed out before a provider answered", "invalid_request_error", null, "request_timeout"), attempts };
      }
      if (!result.retryable) {
        provider.circuit.onSuccess(); // it answered; the request is what is wrong
        return { kind: "error", error: new ApiError(toErrorStatus(result.status ?? 400), result.message, undefined, null, "upstream_error"), attempts };
      }
      provider.circuit.onFailure();
    }
  }
  return { kind: "error", error: exhausted(attempts, last), attempts };
}

function exhausted(attempts: AttemptRecord[], last: CallResult | undefined): ApiError {
  const tried = attempts.map((a) => `${a.provider}: ${a.outcome}${a.status ? ` ${a.status}` : ""}`).join(", ");
  if (!last) return new ApiError(503, `no provider available (${tried || "none configured for this tier"})`, "server_error", null, "providers_unavailable");
  if (last.ok) return new ApiError(502, "unexpected provider state", "server_error");
  if (last.outcome === "timeout") return new ApiError(504, `providers timed out (${tried})`, "server_error", null, "upstream_timeout");
  if (last.status === 429) return new ApiError(429, `providers are rate limiting (${tried}): ${last.message}`, "rate_limit_exceeded", null, "upstream_rate_limited");
  return new ApiError(502, `providers failed (${tried}): ${last.message}`, "server_error", null, "upstream_error");
}

/** Each provider's chat completions URL and request headers, built once. */
const targets = new WeakMap<Provider, { url: URL; headers: Record<string, string> }>();
function targetOf(provider: Provider): { url: URL; headers: Record<string, string> } {
  let t = targets.get(provider);
  if (!t) {
    t = {
      url: new URL(`${provider.baseURL.replace(/\/+$/, "")}/chat/completions`),
      headers: { ...provider.headers, "content-type": "application/json", authorization: `Bearer ${provider.apiKey}` },
    };
    targets.set(provider, t);
  }
  return t;
}

/** A non-streamed call (post-json.ts: node:http, no web streams). */
async function callJson(pool: ProviderPool, provider: Provider, payload: string, options: ForwardOptions): Promise<CallResult> {
  const { url, headers } = targetOf(provider);
  let posted: { status: number; text: string };
  try {
    posted = await postJson(url, headers, payload, provider.timeoutMs, options.signal);
  } catch (err) {
    if (options.signal?.aborted || (err instanceof PostAborted && err.reason === "aborted")) return { ok: false, outcome: "cancelled", retryable: false, message: "cancelled" };
    if (err instanceof PostAborted) return timedOut(provider);
    return connectionFailed(pool, provider, err);
  }
  if (posted.status < 200 || posted.status > 299) return statusFailure(pool, provider, posted.status, posted.text);
  const json = parseObject(posted.text);
  if (!json || !Array.isArray(json.choices))
    return { ok: false, outcome: "invalid", retryable: true, message: `provider "${provider.name}" sent a body that is not a chat completion` };
  return { ok: true, json };
}

function timedOut(provider: Provider): CallResult {
  return { ok: false, outcome: "timeout", retryable: true, message: `provider "${provider.name}" timed out after ${provider.timeoutMs} ms` };
}

function statusFailure(pool: ProviderPool, provider: Provider, status: number, text: string): CallResult {
  const message =
    status === 401 || status === 403
      ? `provider "${provider.name}" rejected its credentials (${status}); check its API key`
      : `provider "${provider.name}" answered ${status}: ${pool.scrub(errorMessage(text))}`;
  // A provider rejecting our key is our configuration problem: fail over rather than blame the caller.
  const retryable = RETRYABLE_STATUS.has(status) || status >= 500 || status === 401 || status === 403;
  return { ok: false, outcome: "status", retryable, status, message, detail: pool.scrubKeys(`${provider.baseURL} answered ${status}: ${text.slice(0, 300)}`) };
}

function connectionFailed(pool: ProviderPool, provider: Provider, err: unknown): CallResult {
  const { code, message } = innermost(err);
  return {
    ok: false,
    outcome: "connection",
    retryable: true,
    // The socket error names the upstream host:port: the caller gets its code, the server log the rest.
    message: `provider "${provider.name}": connection failed (${code ?? pool.scrub(message)})`,
    detail: pool.scrubKeys(`${provider.baseURL}: ${code ?? "error"}: ${message}`),
  };
}

async function callOnce(pool: ProviderPool, provider: Provider, payload: string, options: ForwardOptions): Promise<CallResult> {
  if (!options.stream) return callJson(pool, provider, payload, options);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), provider.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;
  try {
    const { url, headers } = targetOf(provider);
    // Behind an egress proxy (HTTPS_PROXY...), a fetch that goes through it; Node's fetch ignores those variables.
    const res = await (egressOf(url).fetch ?? fetch)(url, { method: "POST", headers, body: payload, signal });
    if (!res.ok) return statusFailure(pool, provider, res.status, await res.text().catch(() => ""));
    const start = await checkStreamStart(res.headers.get("content-type"), res.body);
    if (!start.ok) return { ok: false, outcome: "invalid", retryable: true, message: `provider "${provider.name}" ${start.problem}` };
    return { ok: true, stream: start.stream };
  } catch (err) {
    if (options.signal?.aborted) return { ok: false, outcome: "cancelled", retryable: false, message: "cancelled" };
    if (timeout.signal.aborted) return timedOut(provider);
    return connectionFailed(pool, provider, err);
  } finally {
    // Streams: the deadline covers the wait for the first event only; sse.ts times out idle streams after that.
    clearTimeout(timer);
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The provider's own error message when it sent an OpenAI-style error; anything else (an HTML page...) is only described. */
function errorMessage(text: string): string {
  const msg = (parseObject(text)?.error as { message?: unknown } | undefined)?.message;
  if (typeof msg === "string") return msg.slice(0, 500);
  return text.trim() === "" ? "(empty body)" : `(a ${text.length}-character body that is not an OpenAI-style error)`;
}

/** fetch wraps the socket error ("fetch failed"); the cause says ECONNREFUSED etc. */
function innermost(err: unknown): { code?: string; message: string } {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? { code: (e as NodeJS.ErrnoException).code, message: e.message } : { message: String(e) };
}
