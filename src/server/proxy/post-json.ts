/**
 * @module One non-streamed upstream POST over node:http(s) with keep-alive sockets. The proxy's hot path:
 * fetch builds a WHATWG Request, Response, ReadableStream and combined AbortSignals per call, which cost
 * more CPU than the whole HTTP exchange here (profiled under load). Streams still use fetch (sse.ts works
 * on web streams). Behind an egress proxy (egress.ts) the agents are the proxy's.
 */
import http from "node:http";
import https from "node:https";
import { egressOf, proxyAuthRequired } from "./egress.js";

/** Sockets kept open between calls, as fetch's pool does; no cap beyond the callers' concurrency. */
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export interface PostedJson {
  status: number;
  text: string;
}

/** Why a post failed before an answer: the timeout passed, the signal aborted, or the connection failed (the socket's error). */
export class PostAborted extends Error {
  constructor(readonly reason: "timeout" | "aborted") {
    super(reason);
  }
}

/**
 * POSTs `payload` to `url`; resolves with the status and the whole body as text. A kept-alive socket the
 * provider closed while it sat idle fails as soon as it is written to: that one attempt is made again on a
 * fresh connection (node's advice for `reusedSocket`), rather than counted against the provider.
 */
export async function postJson(url: URL, headers: Record<string, string>, payload: string, timeoutMs: number, signal?: AbortSignal): Promise<PostedJson> {
  const started = Date.now();
  try {
    return await postOnce(url, headers, payload, timeoutMs, signal);
  } catch (err) {
    if (!(err instanceof StaleSocket)) throw err;
    return postOnce(url, headers, payload, Math.max(1, timeoutMs - (Date.now() - started)), signal, false);
  }
}

/** The request went out on a reused socket that the other end had already closed. */
class StaleSocket extends Error {}

function postOnce(url: URL, headers: Record<string, string>, payload: string, timeoutMs: number, signal: AbortSignal | undefined, reuse = true): Promise<PostedJson> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new PostAborted("aborted"));
    const secure = url.protocol === "https:";
    const egress = egressOf(url);
    const req = (secure ? https : http).request(url, {
      method: "POST",
      // The retry after a stale socket takes a connection of its own (the pool may hold more stale ones).
      agent: reuse ? (egress.agent ?? (secure ? agents.https : agents.http)) : (egress.freshAgent ?? false),
      headers: { ...headers, "content-length": String(Buffer.byteLength(payload)) },
    });
    let settled = false;
    const finish = (err: Error | undefined, value?: PostedJson) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => {
      finish(new PostAborted("timeout"));
      req.destroy();
    }, timeoutMs);
    const onAbort = () => {
      finish(new PostAborted("aborted"));
      req.destroy();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    // A proxy refusing the tunnel (403, 407): https-proxy-agent hands its answer over as the provider's
    // own; it is a connection failure instead, named for the server log.
    if (egress.proxy)
      req.once("proxyConnect", (connect: { statusCode?: number }) => {
        if (connect.statusCode === undefined || connect.statusCode === 200) return;
        finish(Object.assign(new Error(`the egress proxy answered ${connect.statusCode} to CONNECT`), { code: "ERR_PROXY_TUNNEL" }));
        req.destroy();
      });
    let answered = false;
    req.on("error", (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      finish(req.reusedSocket && !answered && (code === "ECONNRESET" || code === "EPIPE") ? new StaleSocket(err.message) : err);
    });
    req.on("response", (res) => {
      answered = true;
      // 407 comes from the proxy itself (forwarded http:// calls): its credentials, not the provider's.
      if (res.statusCode === 407 && egress.proxy) {
        res.resume();
        return finish(proxyAuthRequired());
      }
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) => finish(err));
      res.on("aborted", () => finish(new Error("the provider closed the connection mid-answer")));
      res.on("end", () => finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.end(payload);
  });
}
