/** The HTTP shell: auth, body limits and errors, hot reload under traffic, graceful shutdown with a stream in flight. */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { Router } from "../../../src/router/router.js";
import { DecisionLog } from "../../../src/store/index.js";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";
import { resealed } from "../../helpers/manifest.js";
import { tempDir, trainTiers } from "../../helpers/tiers.js";
import { loadRouter, postJson, startServer, takeServerErrors, type Running } from "../setup.js";

let modelDir: string;
let router: Router;
let fake: FakeOpenAI;
const running: Running[] = [];
const noWatch = { watch: false, intervalMs: 1000 };

beforeAll(async () => {
  modelDir = (await trainTiers(20)).dir;
  router = await loadRouter(modelDir);
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await fake?.close();
  await router?.close();
});

async function serve(options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<Running> {
  const r = await startServer({ model: router, config: { providers: [{ name: "fake", baseURL: fake.baseURL }], reload: noWatch }, ...options });
  running.push(r);
  return r;
}

describe("auth", () => {
  it("401s without or with a wrong token on every endpoint but /healthz", async () => {
    const { url, client } = await serve({ config: { providers: [{ name: "fake", baseURL: fake.baseURL }], auth: { tokens: ["tok-alpha-123", "tok-beta-456"] }, reload: noWatch } });
    const endpoints: Array<[string, string, string?]> = [
      ["POST", "/v1/route", '{"text":"hi"}'],
      ["POST", "/v1/chat/completions", '{"model":"auto","messages":[{"role":"user","content":"hi"}]}'],
      ["GET", "/v1/stats"],
      ["GET", "/metrics"],
      ["POST", "/admin/reload"],
    ];
    for (const [method, path, body] of endpoints) {
      for (const auth of [undefined, "Bearer wrong-token", "Basic dG9rLWFscGhhLTEyMw==", "Bearer tok-alpha-1234"]) {
        const res = await fetch(`${url}${path}`, { method, body, headers: auth ? { authorization: auth } : {} });
        expect(res.status, `${method} ${path} with ${auth}`).toBe(401);
        expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
      }
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const err = (await client("nope")
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    const ok = await client("tok-beta-456").chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] });
    expect(ok.choices[0].message.content).toBe("ok");
    expect((await fetch(`${url}/metrics`, { headers: { authorization: "Bearer tok-alpha-123" } })).status).toBe(200);
  });
});

describe("bodies and errors", () => {
  it("answers OpenAI-style 4xx errors for oversize, malformed and wrongly typed bodies", async () => {
    const { url, client } = await serve({ config: { providers: [{ name: "fake", baseURL: fake.baseURL }], bodyLimitBytes: 2048, reload: noWatch } });
    const chat = `${url}/v1/chat/completions`;
    const cases: Array<[string, number, string | null, RegExp]> = [
      [JSON.stringify({ model: "auto", messages: [{ role: "user", content: "x".repeat(5000) }] }), 413, null, /larger than 2048 bytes/],
      ["{not json", 400, null, /not valid JSON/],
      ["", 400, null, /empty/],
      ['{"model":"auto"}', 400, "messages", /missing required parameter/],
      ['{"model":"auto","messages":"hi"}', 400, "messages", /./],
      ['{"model":"auto","messages":[]}', 400, "messages", /./],
      ['{"model":42,"messages":[{"role":"user","content":"hi"}]}', 400, "model", /./],
      ['{"model":"auto","messages":[{"role":"wizard","content":"hi"}]}', 400, "messages.0.role", /./],
      ['{"model":"auto","messages":[{"role":"assistant","content":"only me"}]}', 400, "messages", /no user message/],
      ['{"model":"auto","messages":[{"role":"user","content":"hi"}],"stream":"yes"}', 400, "stream", /./],
    ];
    for (const [body, status, param, message] of cases) {
      const res = await postJson(chat, body);
      const json = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
      expect(res.status, body.slice(0, 60)).toBe(status);
      expect(json.error.type).toBe("invalid_request_error");
      expect(json.error.param, body.slice(0, 60)).toBe(param);
      expect(json.error.message).toMatch(message);
      expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
    }
    const route = await postJson(`${url}/v1/route`, '{"text":"a","messages":[{"role":"user","content":"b"}]}');
    expect(route.status).toBe(400);
    expect((await postJson(`${url}/v1/route`, "[1,2]")).status).toBe(400);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    // The openai client surfaces them as typed errors.
    const err = (await client()
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: "y".repeat(5000) }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(413);
  });

  it("limits chunked bodies (no Content-Length) by what arrives, and takes them under the limit", async () => {
    const { url } = await serve({ config: { providers: [{ name: "fake", baseURL: fake.baseURL }], bodyLimitBytes: 2048, reload: noWatch } });
    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += 500) c.enqueue(bytes.subarray(i, i + 500));
          c.close();
        },
      });
      return fetch(`${url}/v1/route`, { method: "POST", body, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    };
    const big = await chunked(JSON.stringify({ text: "x".repeat(5000) }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(/larger than 2048 bytes/);
    const small = await chunked(JSON.stringify({ text: "what is the capital of france" }));
    expect(small.status).toBe(200);
    expect(((await small.json()) as { label: string }).label).toEqual(expect.any(String));
  });

  it("CORS is off by default and on for configured origins", async () => {
    const off = await serve();
    const pre = { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } };
    expect((await fetch(`${off.url}/v1/route`, pre)).headers.get("access-control-allow-origin")).toBeNull();
    const on = await serve({ config: { providers: [], cors: { origins: ["https://app.example"] }, reload: noWatch } });
    expect((await fetch(`${on.url}/v1/route`, pre)).headers.get("access-control-allow-origin")).toBe("https://app.example");
  });
});

describe("hot reload", () => {
  it("swaps the model under traffic without a failed request; a broken artifact keeps the old one serving", async () => {
    const dir = join(tempDir(), "model");
    cpSync(modelDir, dir, { recursive: true });
    const own = await loadRouter(dir);
    const { url } = await serve({ model: own, config: { providers: [], reload: { watch: true, intervalMs: 50 } } });
    const manifestPath = join(dir, "manifest.json");
    const original = readFileSync(manifestPath, "utf8");
    const v1 = own.version;

    const statuses: number[] = [];
    const versions = new Set<string>();
    let stop = false;
    const traffic = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const res = await postJson(`${url}/v1/route`, '{"text":"how do I reverse a linked list in C?"}');
        statuses.push(res.status);
        versions.add(((await res.json()) as { modelVersion: string }).modelVersion);
      }
    });
    const waitFor = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      await waitFor(() => statuses.length >= 5);
      // Admin reload to a new version...
      writeFileSync(manifestPath, resealed(original.replace(v1, "v2-admin")));
      const admin = (await (await postJson(`${url}/admin/reload`, "")).json()) as { ok: boolean; version: string; previousVersion: string };
      expect(admin).toMatchObject({ ok: true, version: "v2-admin" });
      // The 50 ms watcher may have loaded the new manifest before the admin call did.
      expect([v1, "v2-admin"]).toContain(admin.previousVersion);
      await waitFor(() => versions.has("v2-admin"));
      // ...then the watcher picks up a changed manifest by itself.
      writeFileSync(manifestPath, resealed(original.replace(v1, "v3-watched")));
      await waitFor(() => versions.has("v3-watched"));
      // A broken artifact: reload fails, the old model keeps serving.
      writeFileSync(manifestPath, "{ truncated");
      const failed = await postJson(`${url}/admin/reload`, "");
      expect(failed.status).toBe(500);
      const failedText = await failed.text();
      expect((JSON.parse(failedText) as { error: { code: string }; version: string }).version).toBe("v3-watched");
      // Which file failed is for the server log, not for the caller.
      expect(failedText).not.toContain(dir);
      expect(failedText).not.toContain("manifest.json");
      const n = statuses.length;
      await waitFor(() => statuses.length >= n + 5);
    } finally {
      // Stop the traffic loops even when an assertion failed, so the worker can exit.
      stop = true;
      await Promise.all(traffic);
    }
    writeFileSync(manifestPath, original);
    const logged = takeServerErrors();
    expect(logged.length).toBeGreaterThan(0);
    for (const e of logged) expect(e.message).toMatch(/^model reload \((admin|watch)\) failed, still serving v3-watched: /);
    expect(logged.some((e) => e.message.includes(manifestPath))).toBe(true);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(own.version).toBe("v3-watched");
    await own.close();
  });
});

describe("graceful shutdown", () => {
  it("stops accepting, lets an in-flight stream finish, and flushes the decision log", async () => {
    const logPath = join(tempDir(), "log.db");
    const r = await startServer({ model: router, config: { providers: [{ name: "fake", baseURL: fake.baseURL }], reload: noWatch }, log: logPath });
    fake.setHandler(() => ({ type: "stream", chunks: ["one ", "two ", "three ", "four"], chunkDelayMs: 150 }));
    const stream = await r.client().chat.completions.create({ model: "auto", messages: [{ role: "user", content: "count to four" }], stream: true });
    let text = "";
    let closing: Promise<void> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (!closing && text !== "") {
        closing = r.close();
        // New connections are refused while the stream drains.
        await new Promise((res) => setTimeout(res, 50));
        const refused = await fetch(`${r.url}/healthz`).then(
          () => false,
          () => true,
        );
        expect(refused).toBe(true);
      }
    }
    await closing;
    expect(text).toBe("one two three four");
    const log = DecisionLog.open(logPath, { readonly: true });
    const rows = log.query({});
    expect(rows).toHaveLength(1);
    expect(rows[0].feedback.map((f) => f.kind)).toEqual(["outcome"]);
    expect(rows[0].feedback[0].tokensOut).toBeGreaterThan(0);
    log.close();
    fake.setHandler(() => ({ type: "content", content: "ok" }));
  });
});
