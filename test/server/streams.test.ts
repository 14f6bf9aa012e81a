/**
 * Streams: a bad start fails over before the caller is committed to a stream; a started stream that
 * goes quiet or is cut by shutdown ends with an error event; every stream leaves its outcome row.
 */
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { Router } from "../../src/router/router.js";
import { DecisionLog, type LoggedDecision } from "../../src/store/index.js";
import { startFakeOpenAI, type FakeOpenAI, type FakeReply } from "../helpers/fake-openai.js";
import { tempDir, trainTiers } from "../helpers/tiers.js";
import { loadRouter, startServer, type Running } from "./setup.js";

let router: Router;
let junk: FakeOpenAI;
let ok: FakeOpenAI;
const running: Running[] = [];
const noWatch = { watch: false, intervalMs: 1000 };

beforeAll(async () => {
  router = await loadRouter((await trainTiers(20)).dir);
  junk = await startFakeOpenAI();
  ok = await startFakeOpenAI();
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await junk?.close();
  await ok?.close();
  await router?.close();
});

beforeEach(() => {
  ok.setHandler(() => ({ type: "stream", chunks: ["from ", "ok"] }));
  junk.requests.length = 0;
  ok.requests.length = 0;
});

const providers = () => [
  { name: "junk", baseURL: junk.baseURL, timeoutMs: 2000 },
  { name: "ok", baseURL: ok.baseURL, timeoutMs: 2000 },
];

async function serve(extra: Record<string, unknown> = {}, log?: string | DecisionLog): Promise<Running> {
  const r = await startServer({ model: router, config: { providers: providers(), reload: noWatch, ...extra }, log });
  running.push(r);
  return r;
}

const hello = [{ role: "user" as const, content: "hello there" }];

/** Reads a stream to its end; returns the text and the error it ended with, if any. */
async function consume(stream: AsyncIterable<OpenAI.ChatCompletionChunk>, onText?: (text: string) => void): Promise<{ text: string; error?: Error }> {
  let text = "";
  try {
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      onText?.(text);
    }
    return { text };
  } catch (error) {
    return { text, error: error as Error };
  }
}

/** The decision row with its feedback, once its outcome has been written (bounded wait). */
async function outcomeRow(log: DecisionLog, requestId: string): Promise<LoggedDecision> {
  for (let i = 0; i < 250; i++) {
    const [row] = log.query({ requestId });
    if (row?.feedback.some((f) => f.kind === "outcome")) return row;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no outcome row for ${requestId} after 5 s`);
}

describe("a bad stream start fails over", () => {
  const sse = (events: string[]) => events.map((e) => `data: ${e}\n\n`).join("");
  it.each<[string, FakeReply]>([
    ["an HTML page with status 200", { type: "raw", status: 200, contentType: "text/html", body: "<html><body>Bad gateway</body></html>" }],
    ["a JSON error with status 200", { type: "raw", status: 200, contentType: "application/json", body: '{"error":{"message":"overloaded"}}' }],
    ["valid SSE under a wrong content type", { type: "raw", status: 200, contentType: "text/plain", body: sse(['{"choices":[{"index":0,"delta":{"content":"x"}}]}', "[DONE]"]) }],
    ["an event stream whose first event is an error", { type: "raw", status: 200, contentType: "text/event-stream", body: sse(['{"error":{"message":"upstream overloaded"}}']) }],
    ["an event stream whose first event is not JSON", { type: "raw", status: 200, contentType: "text/event-stream", body: "data: <html>\n\n" }],
    ["an event stream that ends before any chunk", { type: "raw", status: 200, contentType: "text/event-stream", body: ": keep-alive\n\ndata: [DONE]\n\n" }],
  ])("%s -> the stream comes from the next provider", async (_name, reply) => {
    const { client } = await serve();
    junk.setHandler(() => reply);
    // Comment events before the first chunk (OpenRouter's keep-alives) are not a bad start.
    ok.setHandler(() => ({
      type: "raw",
      contentType: "text/event-stream; charset=utf-8",
      body: `: PROCESSING\n\n: PROCESSING\n\n${sse(['{"choices":[{"index":0,"delta":{"content":"from "}}]}', '{"choices":[{"index":0,"delta":{"content":"ok"}}]}', "[DONE]"])}`,
    }));
    const { data: stream, response } = await client().chat.completions.create({ model: "auto", messages: hello, stream: true }).withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { text, error } = await consume(stream);
    expect(error).toBeUndefined();
    expect(text).toBe("from ok");
    expect(junk.chatRequests()).toHaveLength(1);
    expect(ok.chatRequests()).toHaveLength(1);
  });
});

describe("a started stream", () => {
  it("whose provider hangs mid-stream ends with an error event after the idle timeout, and leaves its outcome row", async () => {
    const log = DecisionLog.open(join(tempDir(), "log.db"));
    const { client } = await serve({ providers: [providers()[1]], streamIdleTimeoutMs: 300 }, log);
    ok.setHandler(() => ({ type: "stream", chunks: ["one ", "two ", "three"], stallAfterChunks: 1 }));
    const { data: stream, response } = await client().chat.completions.create({ model: "auto", messages: hello, stream: true }).withResponse();
    const { text, error } = await consume(stream);
    expect(text).toBe("one ");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error!.message).toMatch(/sent nothing for 300 ms/);
    const row = await outcomeRow(log, response.headers.get("x-triage-request-id")!);
    expect(row.feedback.map((f) => f.kind)).toEqual(["outcome"]);
    expect(row.feedback[0].note).toMatch(/provider=ok stream idle-timeout/);
    log.close();
  });

  it("cut by shutdown ends with an error event and leaves its outcome row", async () => {
    const logPath = join(tempDir(), "log.db");
    const r = await startServer({ model: router, config: { providers: [providers()[1]], reload: noWatch, drainTimeoutMs: 200 }, log: logPath });
    ok.setHandler(() => ({ type: "stream", chunks: ["one ", "two "], stallAfterChunks: 1 }));
    const { data: stream, response } = await r.client().chat.completions.create({ model: "auto", messages: hello, stream: true }).withResponse();
    let closing: Promise<void> | undefined;
    const { text, error } = await consume(stream, () => void (closing ??= r.close()));
    await closing;
    expect(text).toBe("one ");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error!.message).toMatch(/shutting down/);
    const log = DecisionLog.open(logPath, { readonly: true });
    const [row] = log.query({ requestId: response.headers.get("x-triage-request-id")! });
    log.close();
    expect(row.feedback.map((f) => f.kind)).toEqual(["outcome"]);
    expect(row.feedback[0].note).toMatch(/stream shutdown/);
  });

  it("every stream leaves its outcome row: completed, abandoned by the caller, timed out", async () => {
    const log = DecisionLog.open(join(tempDir(), "log.db"));
    const { client } = await serve({ providers: [providers()[1]], streamIdleTimeoutMs: 300 }, log);
    const ids: string[] = [];
    const start = async () => {
      const { data, response } = await client().chat.completions.create({ model: "auto", messages: hello, stream: true }).withResponse();
      ids.push(response.headers.get("x-triage-request-id")!);
      return data;
    };
    ok.setHandler(() => ({ type: "stream", chunks: ["all ", "of ", "it"] }));
    expect((await consume(await start())).text).toBe("all of it");
    ok.setHandler(() => ({ type: "stream", chunks: ["one ", "two "], stallAfterChunks: 1 }));
    const abandoned = await start();
    await consume(abandoned, () => abandoned.controller.abort());
    await consume(await start());
    const notes = await Promise.all(ids.map(async (id) => (await outcomeRow(log, id)).feedback.map((f) => f.note)));
    expect(notes).toHaveLength(3);
    expect(notes[0]).toEqual([expect.not.stringMatching(/stream/)]);
    expect(notes[1]).toEqual([expect.stringMatching(/stream cancelled$/)]);
    expect(notes[2]).toEqual([expect.stringMatching(/stream idle-timeout/)]);
    log.close();
  });
});
