/**
 * Upstream calls behind an egress proxy: with HTTP_PROXY / HTTPS_PROXY set, both the non-streamed (node:http)
 * and the streamed (fetch) chat calls reach the provider through a real forward proxy on 127.0.0.1, except
 * for the hosts NO_PROXY lists. The variables are set in this test file's own process, and restored after.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { Router } from "../../../src/router/router.js";
import { type ForwardProxy, startForwardProxy, startTlsFront, type TlsFront } from "../../helpers/egress.js";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { trainTiers } from "../../helpers/tiers.js";
import { loadRouter, type Running, startServer, takeServerErrors } from "../setup.js";

const NAMES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "NODE_TLS_REJECT_UNAUTHORIZED"];
const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));

/** Exactly these proxy variables (the machine's own, often with loopback in NO_PROXY, are cleared). */
function setEnv(vars: Record<string, string>): void {
  for (const n of NAMES) delete process.env[n];
  Object.assign(process.env, vars);
}

let router: Router;
let fake: FakeOpenAI;
let proxy: ForwardProxy;
let front: TlsFront;
const running: Running[] = [];

beforeAll(async () => {
  router = await loadRouter((await trainTiers(20)).dir);
  fake = await startFakeOpenAI({
    handler: (r) => ((r.body as { stream?: boolean }).stream ? { type: "stream", chunks: ["via ", "proxy"] } : { type: "content", content: "via proxy" }),
  });
  proxy = await startForwardProxy();
  front = await startTlsFront(fake.port);
});

afterEach(() => setEnv(Object.fromEntries(Object.entries(saved).filter((e): e is [string, string] => e[1] !== undefined))));

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await Promise.all([fake?.close(), proxy?.close(), front?.close()]);
  await router?.close();
});

async function serve(baseURL: string): Promise<Running> {
  const r = await startServer({ model: router, config: { providers: [{ name: "up", baseURL, timeoutMs: 5000 }], reload: { watch: false, intervalMs: 1000 } } });
  running.push(r);
  return r;
}

/** One non-streamed and one streamed chat completion; both answers' text. */
async function chatTwice(r: Running): Promise<string[]> {
  const messages = [{ role: "user" as const, content: "hello there" }];
  const plain = await r.client().chat.completions.create({ model: "auto", messages });
  let streamed = "";
  for await (const chunk of await r.client().chat.completions.create({ model: "auto", messages, stream: true })) streamed += chunk.choices[0]?.delta?.content ?? "";
  return [plain.choices[0].message.content ?? "", streamed];
}

const chats = (from: number) => fake.chatRequests().slice(from);

it("sends http:// upstream calls, streamed or not, through HTTP_PROXY as absolute-URI requests, with its credentials", async () => {
  setEnv({ HTTP_PROXY: proxy.url.replace("//", "//ops:s3cret@"), NO_PROXY: "" });
  const before = fake.chatRequests().length;
  const r = await serve(fake.baseURL);
  expect(await chatTwice(r)).toEqual(["via proxy", "via proxy"]);
  expect(proxy.forwarded).toEqual([`${fake.baseURL}/chat/completions`, `${fake.baseURL}/chat/completions`]);
  expect(chats(before).map((c) => [c.body.stream ?? false, c.headers["x-test-proxy"]])).toEqual([
    [false, "forwarded"],
    [true, "forwarded"],
  ]);
  expect(new Set(proxy.authorizations)).toEqual(new Set([`Basic ${Buffer.from("ops:s3cret").toString("base64")}`]));
});

it("tunnels https:// upstream calls, streamed or not, through HTTPS_PROXY with CONNECT", async () => {
  // The TLS front's certificate is self-signed: trusted for this test only.
  setEnv({ https_proxy: proxy.url, no_proxy: "localhost,.internal.example", NODE_TLS_REJECT_UNAUTHORIZED: "0" });
  const before = fake.chatRequests().length;
  const r = await serve(front.baseURL);
  expect(await chatTwice(r)).toEqual(["via proxy", "via proxy"]);
  expect(await chatTwice(r)).toEqual(["via proxy", "via proxy"]);
  expect(chats(before)).toHaveLength(4);
  // One kept-alive tunnel for the non-streamed calls (node:http), one for the streams (fetch).
  expect(proxy.tunnels).toEqual([new URL(front.baseURL).host, new URL(front.baseURL).host]);
  // Every connection the upstream accepted came through a tunnel.
  expect(front.connections()).toBe(proxy.tunnels.length);
});

it("connects directly to the hosts NO_PROXY lists, and through the proxy to the others", async () => {
  // A proxy of its own: the tunnels kept alive by the test before would hide new ones.
  const second = await startForwardProxy();
  try {
    setEnv({ HTTP_PROXY: second.url, HTTPS_PROXY: second.url, NO_PROXY: `example.com, 127.0.0.1:${fake.port}`, NODE_TLS_REJECT_UNAUTHORIZED: "0" });
    const before = fake.chatRequests().length;
    expect(await chatTwice(await serve(fake.baseURL))).toEqual(["via proxy", "via proxy"]);
    expect(chats(before).map((c) => c.headers["x-test-proxy"])).toEqual([undefined, undefined]);
    expect([second.forwarded, second.tunnels]).toEqual([[], []]);
    // The same host on another port is not listed: its calls take the proxy.
    expect(await chatTwice(await serve(front.baseURL))).toEqual(["via proxy", "via proxy"]);
    expect(second.tunnels.length).toBeGreaterThan(0);
    expect(second.tunnels.every((t) => t === new URL(front.baseURL).host)).toBe(true);
  } finally {
    await second.close();
  }
});

/** One chat call on each path, non-streamed then streamed: the error each ended with (undefined: it succeeded). */
async function failuresOnBothPaths(r: Running): Promise<({ status?: number; message: string } | undefined)[]> {
  const messages = [{ role: "user" as const, content: "hello there" }];
  const out: ({ status?: number; message: string } | undefined)[] = [];
  for (const stream of [false, true])
    out.push(
      await r
        .client()
        .chat.completions.create({ model: "auto", messages, stream })
        .then(
          () => undefined,
          (e: unknown) => e as { status?: number; message: string },
        ),
    );
  return out;
}

it("a proxy that refuses the tunnel is the provider's connection failure, not its answer", async () => {
  const barring = await startForwardProxy({ refuse: 403 });
  try {
    setEnv({ HTTPS_PROXY: barring.url, NO_PROXY: "" });
    for (const err of await failuresOnBothPaths(await serve(front.baseURL))) {
      expect(err?.status).toBe(502);
      expect(err?.message).toContain('provider "up": connection failed');
      expect(err?.message).not.toContain("credentials");
    }
    // The server log says what the proxy answered, for each path.
    const logged = takeServerErrors().map((e) => e.message);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toContain("the egress proxy answered 403 to CONNECT");
    expect(logged[1]).toContain("Proxy response (403)");
  } finally {
    await barring.close();
  }
});

it("a 407 from the proxy (no or wrong credentials) is the provider's connection failure, not its answer", async () => {
  const locked = await startForwardProxy({ refuse: 407 });
  try {
    setEnv({ HTTP_PROXY: locked.url, NO_PROXY: "" });
    for (const err of await failuresOnBothPaths(await serve(fake.baseURL))) {
      expect(err?.status).toBe(502);
      expect(err?.message).toContain('provider "up": connection failed');
    }
    const logged = takeServerErrors().map((e) => e.message);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toContain("the egress proxy answered 407 (proxy authentication required)");
    expect(logged[1]).toContain("Proxy Authentication Required (407)");
  } finally {
    await locked.close();
  }
});
