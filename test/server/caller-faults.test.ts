/**
 * Caller faults stay the caller's: a bad body is a 4xx that names the real problem, never moves a
 * provider's circuit breaker, and no client-facing error shows an upstream address.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { Router } from "../../src/router/router.js";
import { ApiError } from "../../src/server/index.js";
import { refusedPort, startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { trainTiers } from "../helpers/tiers.js";
import { loadRouter, postJson, startServer, takeServerErrors, type Running } from "./setup.js";

let router: Router;
let fake: FakeOpenAI;
const running: Running[] = [];
const noWatch = { watch: false, intervalMs: 1000 };

beforeAll(async () => {
  router = await loadRouter((await trainTiers(20)).dir);
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await fake?.close();
  await router?.close();
});

beforeEach(() => {
  fake.setHandler(() => ({ type: "content", content: "ok" }));
  fake.requests.length = 0;
});

async function serve(config: Record<string, unknown> = {}): Promise<Running> {
  const r = await startServer({ model: router, config: { providers: [{ name: "fake", baseURL: fake.baseURL }], reload: noWatch, ...config } });
  running.push(r);
  return r;
}

const hello = [{ role: "user" as const, content: "hello there" }];
/** A chat body with `depth` nested arrays in an extra message field (about 2 bytes per level). */
const deepChat = (depth: number) => `{"model":"auto","messages":[{"role":"user","content":"hello there","x":${"[".repeat(depth)}${"]".repeat(depth)}}]}`;
const breakerOf = async (url: string) => ((await (await fetch(`${url}/healthz`)).json()) as { providers: Record<string, string> }).providers;

describe("bodies that cannot reach a provider", () => {
  it("a 12 KB chat body nested 6,000 deep is a 400 naming the limit; ten of them leave the breaker closed", async () => {
    const { url, client } = await serve();
    const body = deepChat(6000);
    expect(body.length).toBeGreaterThan(12_000);
    for (let i = 0; i < 10; i++) {
      const res = await postJson(`${url}/v1/chat/completions`, body);
      const json = (await res.json()) as { error: { message: string; code: string } };
      expect(res.status).toBe(400);
      expect(json.error.message).toMatch(/more than 400 levels deep/);
      expect(json.error.code).toBe("json_too_deep");
    }
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await breakerOf(url)).toEqual({ fake: "healthy" });
    const next = await client().chat.completions.create({ model: "auto", messages: hello });
    expect(next.choices[0].message.content).toBe("ok");
    // Nesting within the limit is still forwarded.
    expect((await postJson(`${url}/v1/chat/completions`, deepChat(390))).status).toBe(200);
  });

  it("through the library API, a body that cannot be serialised is the caller's 400 and no provider is tried", async () => {
    const { url, server } = await serve({ providers: [{ name: "fake", baseURL: fake.baseURL, breaker: { failureThreshold: 2, cooldownMs: 60_000 } }] });
    let deep: unknown = [];
    for (let i = 0; i < 6000; i++) deep = [deep];
    for (const stream of [false, true, false, true]) {
      const err = await server.proxy.complete({ model: "auto", stream, messages: [{ ...hello[0], x: deep }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).message).toMatch(/cannot be sent upstream/);
    }
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await breakerOf(url)).toEqual({ fake: "healthy" });
  });

  it("a caller who leaves before the provider answers does not count against the provider", async () => {
    const { url, client } = await serve({ providers: [{ name: "fake", baseURL: fake.baseURL, breaker: { failureThreshold: 2, cooldownMs: 60_000 } }] });
    fake.setHandler(() => ({ type: "hang" }));
    for (let i = 1; i <= 3; i++) {
      const abort = new AbortController();
      const call = client()
        .chat.completions.create({ model: "auto", messages: hello }, { signal: abort.signal })
        .catch((e: unknown) => e);
      while (fake.chatRequests().length < i) await new Promise((r) => setTimeout(r, 10));
      abort.abort();
      expect(await call).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    // The server sees each disconnect a moment after the client gives up.
    await new Promise((r) => setTimeout(r, 200));
    expect(await breakerOf(url)).toEqual({ fake: "healthy" });
    fake.setHandler(() => ({ type: "content", content: "ok" }));
    expect((await client().chat.completions.create({ model: "auto", messages: hello })).choices[0].message.content).toBe("ok");
  });
});

describe("content type", () => {
  it("POST bodies that are not application/json get 415 on every POST endpoint (no preflight-free cross-site posts)", async () => {
    const { url } = await serve();
    const bodies: Record<string, string> = {
      "/v1/route": '{"text":"hello there"}',
      "/v1/chat/completions": JSON.stringify({ model: "auto", messages: hello }),
      "/admin/reload": "{}",
    };
    for (const [path, body] of Object.entries(bodies)) {
      for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
        const res = await fetch(`${url}${path}`, { method: "POST", body: new TextEncoder().encode(body), headers: type ? { "content-type": type } : {} });
        expect(res.status, `${path} as ${type}`).toBe(415);
        const json = (await res.json()) as { error: { message: string; code: string } };
        expect(json.error.code).toBe("unsupported_media_type");
        expect(json.error.message).toMatch(/application\/json/);
      }
      const ok = await fetch(`${url}${path}`, { method: "POST", body, headers: { "content-type": "Application/JSON; charset=utf-8" } });
      expect(ok.status, path).toBe(200);
    }
    expect(fake.chatRequests()).toHaveLength(1);
  });
});

describe("connections", () => {
  it("a body refused before it is read (413, 415) does not break the caller's next requests on its kept-alive connection", async () => {
    const { url, client } = await serve();
    const big = "x".repeat(1_200_000); // over the 1 MB limit, and more than the socket buffers
    const c = client();
    const tooLarge = await c.chat.completions.create({ model: "auto", messages: [{ role: "user", content: big }] }).catch((e: unknown) => e);
    expect((tooLarge as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    for (let i = 0; i < 3; i++) expect((await c.chat.completions.create({ model: "auto", messages: hello })).choices[0].message.content).toBe("ok");
    const plain = await fetch(`${url}/v1/route`, { method: "POST", body: JSON.stringify({ text: big.slice(0, 900_000) }), headers: { "content-type": "text/plain" } });
    expect(plain.status).toBe(415);
    expect(plain.headers.get("connection")).toBe("close");
    for (let i = 0; i < 3; i++) expect((await c.chat.completions.create({ model: "auto", messages: hello })).choices[0].message.content).toBe("ok");
  });
});

describe("error messages", () => {
  it('say a wrong type is a wrong type ("text": 42), not a missing parameter', async () => {
    const { url, client } = await serve();
    const cases: Array<[string, string, string | null, string, string]> = [
      ["/v1/route", '{"text":42}', "text", '"text" must be a string, got number', "invalid_type"],
      ["/v1/route", '{"text":"hi","topK":2.5}', "topK", '"topK" must be an integer, got a fractional number', "invalid_type"],
      ["/v1/route", "[1,2]", null, "the request body must be an object, got array", "invalid_type"],
      ["/v1/chat/completions", '{"model":42,"messages":[{"role":"user","content":"hi"}]}', "model", '"model" must be a string, got number', "invalid_type"],
      [
        "/v1/chat/completions",
        '{"model":"auto","messages":[{"role":"user","content":42}]}',
        "messages.0.content",
        '"messages.0.content" must be a string, an array or null, got number',
        "invalid_type",
      ],
      ["/v1/chat/completions", '{"model":"auto","messages":[{"role":"user","content":"hi"}],"stream":"yes"}', "stream", '"stream" must be a boolean, got string', "invalid_type"],
      ["/v1/chat/completions", '{"model":"auto"}', "messages", 'missing required parameter "messages"', "missing_required_parameter"],
    ];
    for (const [path, body, param, message, code] of cases) {
      const res = await postJson(`${url}${path}`, body);
      const json = (await res.json()) as { error: { message: string; param: string | null; code: string } };
      expect(res.status, body).toBe(400);
      expect(json.error, body).toEqual({ message, type: "invalid_request_error", param, code });
    }
    // The openai client surfaces it as a typed 400 with the same message.
    const err = (await client()
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: 42 as unknown as string }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toMatch(/must be a string, an array or null, got number/);
  });

  it("never show an upstream's host:port to the caller; the server log has it", async () => {
    const dead = await refusedPort();
    const addresses = [`127.0.0.1:${dead}`, `127.0.0.1:${fake.port}`];
    const seen: string[] = [];
    const failWith = async (r: Running, stream: boolean) => {
      const err = (await r
        .client()
        .chat.completions.create({ model: "auto", messages: hello, stream })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.APIError);
      seen.push(`${err.status} ${err.message} ${JSON.stringify(err.error)}`);
    };
    // Refused connections.
    const refused = await serve({ providers: [{ name: "dead", baseURL: `http://127.0.0.1:${dead}/v1`, timeoutMs: 1000 }] });
    for (const stream of [false, true]) await failWith(refused, stream);
    // A provider whose own errors name its address: a 400 passed back, a 500 HTML page, a timeout.
    const talkative = await serve({ providers: [{ name: "fake", baseURL: fake.baseURL, timeoutMs: 300 }] });
    fake.setHandler(() => ({ type: "error", status: 400, message: `model not found at ${fake.baseURL}/models (upstream 127.0.0.1:${fake.port})` }));
    for (const stream of [false, true]) await failWith(talkative, stream);
    fake.setHandler(() => ({ type: "raw", status: 500, contentType: "text/html", body: `<h1>502 from http://127.0.0.1:${fake.port}</h1>` }));
    for (const stream of [false, true]) await failWith(talkative, stream);
    fake.setHandler(() => ({ type: "hang" }));
    for (const stream of [false, true]) await failWith(talkative, stream);

    expect(seen).toHaveLength(8);
    for (const s of seen) {
      for (const a of addresses) expect(s).not.toContain(a);
      expect(s).not.toMatch(/127\.0\.0\.1|localhost/);
    }
    expect(seen[0]).toMatch(/^502 .*"dead": connection failed \(ECONNREFUSED\)/);
    expect(seen[2]).toMatch(/^400 .*model not found at \[upstream\]/);
    const logged = takeServerErrors().map((e) => e.message);
    expect(logged.some((m) => m.includes(`127.0.0.1:${dead}`) && m.includes("ECONNREFUSED"))).toBe(true);
    expect(logged.some((m) => m.includes(`127.0.0.1:${fake.port}`) && m.includes("answered 500"))).toBe(true);
  });
});
