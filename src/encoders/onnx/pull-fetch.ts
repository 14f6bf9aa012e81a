/**
 * @module encoders/pull-fetch
 * The fetch @huggingface/transformers downloads through during `triage model pull`. The library
 * reports failures as bare fetch errors or as "Could not locate file"; this wrapper notes which URL
 * failed and how (no connection, an HTTP status, a body cut off half way) so the pull can say so in
 * one line. It also gives up on a server that sends no response headers within a time limit
 * (a large body may still take minutes).
 */

export interface FetchWatch {
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  /** URLs requested, in order. */
  readonly requests: string[];
  /** The first request that got no response at all. */
  unreachable?: { url: string; error: unknown };
  /** The first response whose body broke off. */
  interrupted?: { url: string; error: unknown };
  /** Responses that were not 2xx, by URL: "404 Not Found". */
  readonly failed: Map<string, string>;
}

export function watchFetch(base: typeof fetch, headersTimeoutMs = 30_000): FetchWatch {
  const watch: FetchWatch = {
    requests: [],
    failed: new Map(),
    fetch: async (input, init) => {
      const url = String(input);
      watch.requests.push(url);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(Object.assign(new Error("no response headers"), { code: "ETIMEDOUT" })), headersTimeoutMs);
      let res: Response;
      try {
        res = await base(url, { ...init, redirect: "follow", signal: controller.signal });
      } catch (error) {
        watch.unreachable ??= { url, error };
        throw error;
      } finally {
        clearTimeout(timer);
      }
      if (!res.ok) watch.failed.set(url, `${res.status} ${res.statusText}`.trim());
      if (!res.body) return res;
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          try {
            const { done, value } = await reader.read();
            if (done) c.close();
            else c.enqueue(value);
          } catch (error) {
            watch.interrupted ??= { url, error };
            c.error(error);
          }
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    },
  };
  return watch;
}

/** The most telling code in a fetch failure: undici wraps the socket error (sometimes in an AggregateError). */
export function networkCode(err: unknown): string {
  const seen: unknown[] = [];
  let e: unknown = err;
  while (e && typeof e === "object" && !seen.includes(e)) {
    seen.push(e);
    const o = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof o.code === "string") return o.code;
    if (Array.isArray(o.errors) && o.errors.length > 0) e = o.errors[0];
    else e = o.cause;
  }
  const msg = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return msg.split("\n")[0];
}
