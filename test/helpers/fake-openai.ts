/**
 * A fake OpenAI-compatible HTTP server for tests, on 127.0.0.1 with an ephemeral port.
 * Each request to POST /v1/chat/completions gets a scripted reply: the next one queued with
 * `enqueue()`, otherwise the handler's. Every request received is recorded in `requests`.
 *
 *   const fake = await startFakeOpenAI();
 *   fake.enqueue({ type: "content", content: '{"label":"cheap"}' }, { type: "error", status: 500 });
 *   const client = new OpenAI({ baseURL: fake.baseURL, apiKey: "test" });
 *   ...
 *   await fake.close();
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type FakeReply =
  /** A chat completion with this message content; streamed as SSE chunks when the request asked for `stream: true`. */
  | { type: "content"; content: string; usage?: FakeUsage; delayMs?: number; model?: string; finishReason?: string }
  /** SSE chunks in OpenAI's chunk format (one delta per string), then a usage chunk, then `[DONE]`. */
  | {
      type: "stream";
      chunks: string[];
      usage?: FakeUsage;
      delayMs?: number;
      /** Pause between chunks. */
      chunkDelayMs?: number;
      /** Destroy the connection after this many content chunks (a provider dying mid-stream). */
      cutAfterChunks?: number;
      /** Stop sending after this many content chunks and keep the connection open (a provider hanging mid-stream). */
      stallAfterChunks?: number;
      finishReason?: string;
    }
  /** An OpenAI-shaped error body with this status (429, 500, 400...). */
  | { type: "error"; status: number; message?: string; headers?: Record<string, string>; delayMs?: number }
  /** Any body, verbatim (non-JSON junk, truncated JSON, HTML...). */
  | { type: "raw"; body: string; status?: number; contentType?: string; delayMs?: number }
  /** Read the request and never answer; the connection stays open until the client gives up or close(). */
  | { type: "hang" }
  /** Read the request, then drop the connection without a response (a provider crashing). */
  | { type: "reset" };

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. "/v1/chat/completions". */
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
}

export type FakeHandler = (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>;

export interface FakeOpenAIOptions {
  /** Answers requests when the queue is empty. Default: content "ok". */
  handler?: FakeHandler;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
}

export interface FakeOpenAI {
  /** e.g. "http://127.0.0.1:40123/v1" — pass as the OpenAI client's baseURL. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in arrival order (including ones that got 401/404). */
  readonly requests: RecordedRequest[];
  /** Chat completion requests only, with their parsed bodies. */
  chatRequests(): Array<RecordedRequest & { body: Record<string, unknown> }>;
  /** Replies for the next chat requests, in order; the handler answers once they are used up. */
  enqueue(...replies: FakeReply[]): void;
  setHandler(handler: FakeHandler): void;
  /** Stops the server and drops open (hanging) connections. */
  close(): Promise<void>;
}

const CHAT_PATH = "/v1/chat/completions";

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  let handler: FakeHandler = options.handler ?? (() => ({ type: "content", content: "ok" }));
  let chatIndex = 0;

  const server = createServer((req, res) => {
    readBody(req)
      .then(async (rawBody) => {
        const request: RecordedRequest = {
          method: req.method ?? "GET",
          path: (req.url ?? "/").split("?")[0],
          headers: req.headers,
          rawBody,
          body: parseJson(rawBody),
        };
        requests.push(request);
        if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
          return sendError(res, 401, "Incorrect API key provided");
        }
        if (request.method !== "POST" || request.path !== CHAT_PATH) {
          return sendError(res, 404, `no route for ${request.method} ${request.path}`);
        }
        const reply = queue.shift() ?? (await handler(request, chatIndex));
        chatIndex++;
        await respond(res, request, reply);
      })
      .catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, `fake server error: ${String(err)}`);
        else res.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r): r is RecordedRequest & { body: Record<string, unknown> } => r.path === CHAT_PATH && typeof r.body === "object" && r.body !== null),
    enqueue: (...replies) => void queue.push(...replies),
    setHandler: (h) => void (handler = h),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released), for a provider that refuses connections. */
export async function refusedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Waits, but gives up early when the client disconnects (so a cancelled request stops here). */
// Listens on the response: a request's own "close" fires once its body is read, not on disconnect.
function wait(ms: number | undefined, res: ServerResponse): Promise<boolean> {
  if (!ms) return Promise.resolve(!res.destroyed);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(!res.destroyed);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once("close", onClose);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, { error: { message, type, param: null, code: null } }, headers);
}

function modelOf(request: RecordedRequest, override?: string): string {
  if (override) return override;
  const body = request.body as { model?: unknown } | undefined;
  return typeof body?.model === "string" ? body.model : "fake-model";
}

/** A deterministic stand-in for token counts: about four characters per token. */
function estimateUsage(request: RecordedRequest, content: string): FakeUsage {
  return { prompt_tokens: Math.ceil(request.rawBody.length / 4), completion_tokens: Math.max(1, Math.ceil(content.length / 4)) };
}

function wantsStream(request: RecordedRequest): boolean {
  return (request.body as { stream?: unknown } | undefined)?.stream === true;
}

async function respond(res: ServerResponse, request: RecordedRequest, reply: FakeReply): Promise<void> {
  switch (reply.type) {
    case "hang":
      return; // the connection stays open; close() or the client ends it
    case "reset":
      res.socket?.destroy();
      return;
    case "error":
      if (await wait(reply.delayMs, res)) sendError(res, reply.status, reply.message ?? `fake ${reply.status}`, reply.headers);
      return;
    case "raw":
      if (await wait(reply.delayMs, res)) {
        res.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? "application/json" });
        res.end(reply.body);
      }
      return;
    case "content":
      if (!(await wait(reply.delayMs, res))) return;
      if (wantsStream(request)) {
        return streamChunks(res, request, { type: "stream", chunks: [reply.content], usage: reply.usage, finishReason: reply.finishReason });
      }
      sendJson(res, 200, {
        id: `chatcmpl-fake-${Date.now()}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: modelOf(request, reply.model),
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: reply.content, refusal: null },
            logprobs: null,
            finish_reason: reply.finishReason ?? "stop",
          },
        ],
        usage: withTotal(reply.usage ?? estimateUsage(request, reply.content)),
      });
      return;
    case "stream":
      if (!(await wait(reply.delayMs, res))) return;
      return streamChunks(res, request, reply);
  }
}

function withTotal(u: FakeUsage): FakeUsage & { total_tokens: number } {
  return { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
}

async function streamChunks(res: ServerResponse, request: RecordedRequest, reply: Extract<FakeReply, { type: "stream" }>): Promise<void> {
  const id = `chatcmpl-fake-${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = modelOf(request);
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);

  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  send(chunk({ role: "assistant", content: "" }, null));
  for (let i = 0; i < reply.chunks.length; i++) {
    if (reply.cutAfterChunks !== undefined && i >= reply.cutAfterChunks) {
      // Let what was written reach the client first, so it sees a stream that starts and then dies.
      await new Promise<void>((resolve) => res.write("", () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.destroy();
      return;
    }
    if (reply.stallAfterChunks !== undefined && i >= reply.stallAfterChunks) return; // open, silent: close() or the client ends it
    if (i > 0 && !(await wait(reply.chunkDelayMs, res))) return;
    send(chunk({ content: reply.chunks[i] }, null));
  }
  send(chunk({}, reply.finishReason ?? "stop"));
  // Usage arrives in a final chunk with no choices, as OpenAI sends it with stream_options.include_usage.
  const usage = reply.usage ?? estimateUsage(request, reply.chunks.join(""));
  send({ id, object: "chat.completion.chunk", created, model, choices: [], usage: withTotal(usage) });
  res.end("data: [DONE]\n\n");
}
