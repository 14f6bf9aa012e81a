/**
 * The proxy end to end: the real `openai` client -> the real server on 127.0.0.1 -> fake providers.
 * One small model is trained on the shipped tier data; queries for each tier are picked by asking it.
 */
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { Router } from "../../../src/router/router.js";
import { DecisionLog } from "../../../src/store/index.js";
import { refusedPort, startFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";
import { tempDir, trainTiers } from "../../helpers/tiers.js";
import { TIER_MODELS, loadRouter, postJson, queriesPerTier, startServer, takeServerErrors, type Running } from "../setup.js";

let router: Router;
let queries: Map<string, string>;
let fakeA: FakeOpenAI;
let fakeB: FakeOpenAI;
const running: Running[] = [];

beforeAll(async () => {
  const trained = await trainTiers(20);
  router = await loadRouter(trained.dir);
  queries = await queriesPerTier(router);
  fakeA = await startFakeOpenAI({ apiKey: "sk-provider-a-secret" });
  fakeB = await startFakeOpenAI({ apiKey: "sk-provider-b-secret" });
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await fakeA?.close();
  await fakeB?.close();
  await router?.close();
});

beforeEach(() => {
  fakeA.setHandler(() => ({ type: "content", content: "a fine answer from A" }));
  fakeB.setHandler(() => ({ type: "content", content: "a fine answer from B" }));
  fakeA.requests.length = 0;
  fakeB.requests.length = 0;
});

const providers = () => [
  { name: "a", baseURL: fakeA.baseURL, apiKey: "sk-provider-a-secret", timeoutMs: 2000 },
  { name: "b", baseURL: fakeB.baseURL, apiKey: "sk-provider-b-secret", timeoutMs: 2000 },
];

async function serve(extra: Parameters<typeof startServer>[0] extends infer O ? Partial<O> : never = {}): Promise<Running> {
  const r = await startServer({ model: router, config: { providers: providers(), reload: { watch: false, intervalMs: 1000 } }, ...extra });
  running.push(r);
  return r;
}

const userMessage = (text: string) => [{ role: "user" as const, content: text }];

describe("routing to each tier", () => {
  it("forwards to the tier's model with its system prompt and token budget, and says who answered", async () => {
    const { client } = await serve();
    expect([...queries.keys()].sort()).toEqual(Object.keys(TIER_MODELS).sort());
    for (const [tier, text] of queries) {
      fakeA.requests.length = 0;
      const { data, response } = await client()
        .chat.completions.create({ model: "auto", messages: userMessage(text), max_tokens: 100_000 })
        .withResponse();
      expect(response.headers.get("x-triage-tier")).toBe(tier);
      expect(response.headers.get("x-triage-model")).toBe(TIER_MODELS[tier]);
      expect(response.headers.get("x-triage-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(data.model).toBe(TIER_MODELS[tier]);
      expect(data.choices[0].message.content).toBe("a fine answer from A");
      const sent = fakeA.chatRequests()[0].body as { model: string; messages: Array<{ role: string; content: string }>; max_tokens: number };
      expect(sent.model).toBe(TIER_MODELS[tier]);
      expect(sent.messages[0].role).toBe("system");
      expect(sent.messages[0].content).toBe(router.manifest.config.labels.find((l) => l.name === tier)!.systemPrompt);
      expect(sent.messages[1]).toEqual({ role: "user", content: text });
      expect(sent.max_tokens).toBe(router.manifest.config.labels.find((l) => l.name === tier)!.maxTokens);
    }
  });

  it("routes on the last user message; a route group clamps to its tiers; other model names pass through", async () => {
    const { client } = await serve({
      config: {
        providers: providers(),
        models: { auto: ["auto"], groups: { cheap: ["SIMPLE", "MEDIUM"] }, passthrough: true },
        systemPrompt: "merge",
        reload: { watch: false, intervalMs: 1000 },
      },
    });
    const frontier = queries.get("FRONTIER")!;
    const { response } = await client()
      .chat.completions.create({ model: "cheap", messages: [{ role: "system", content: "Be terse." }, ...userMessage(frontier)] })
      .withResponse();
    expect(response.headers.get("x-triage-tier")).toBe("MEDIUM");
    const merged = fakeA.chatRequests()[0].body as { messages: Array<{ role: string; content: string }> };
    expect(merged.messages).toHaveLength(2);
    expect(merged.messages[0].content).toMatch(/\n\nBe terse\.$/);

    fakeA.requests.length = 0;
    const direct = await client()
      .chat.completions.create({ model: "my-own-model", messages: userMessage("hello") })
      .withResponse();
    expect(direct.response.headers.get("x-triage-tier")).toBe("passthrough");
    expect(direct.data.model).toBe("my-own-model");
    expect((fakeA.chatRequests()[0].body as { messages: unknown[] }).messages).toEqual(userMessage("hello"));
  });

  it("POST /v1/route answers the decision with the tier's model, for text or messages", async () => {
    const { url } = await serve();
    for (const [tier, text] of queries) {
      const res = await postJson(`${url}/v1/route`, JSON.stringify({ messages: [{ role: "assistant", content: "earlier" }, ...userMessage(text)] }));
      const body = (await res.json()) as { label: string; model: string; requestId: string; modelVersion: string };
      expect(res.status).toBe(200);
      expect(body.label).toBe(tier);
      expect(body.model).toBe(TIER_MODELS[tier]);
      expect(body.requestId).toBe(res.headers.get("x-triage-request-id"));
      expect(body.modelVersion).toBe(router.version);
    }
  });
});

describe("streaming", () => {
  it("passes SSE chunks through in OpenAI's format, with usage in the final chunk when asked", async () => {
    const { client } = await serve();
    fakeA.setHandler(() => ({ type: "stream", chunks: ["Hel", "lo ", "there"], usage: { prompt_tokens: 11, completion_tokens: 3 } }));
    const stream = await client().chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!), stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    const models = new Set<string>();
    for await (const chunk of stream) {
      models.add(chunk.model);
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello there");
    expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 3 });
    expect([...models]).toEqual(["gpt-4o-mini"]);
  });

  it("asks upstream for usage (for cost) but does not show it to a caller that did not ask", async () => {
    const { client } = await serve();
    fakeA.setHandler(() => ({ type: "stream", chunks: ["a", "b"] }));
    const stream = await client().chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!), stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("ab");
    expect((fakeA.chatRequests()[0].body as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
  });
});

describe("quality gates", () => {
  it("escalates a weak cheap answer to the next tier and logs it as escalated feedback with the cost of both calls", async () => {
    const log = DecisionLog.open(join(tempDir(), "log.db"));
    const { client, server } = await serve({ log });
    fakeA.setHandler((req) =>
      (req.body as { model: string }).model === "gpt-4o-mini"
        ? { type: "content", content: "I'm not sure, sorry.", usage: { prompt_tokens: 100, completion_tokens: 10 } }
        : { type: "content", content: "A complete and confident answer.", usage: { prompt_tokens: 100, completion_tokens: 50 } },
    );
    const { data, response } = await client()
      .chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!) })
      .withResponse();
    expect(response.headers.get("x-triage-tier")).toBe("MEDIUM");
    expect(data.model).toBe("gpt-4o");
    expect(data.choices[0].message.content).toBe("A complete and confident answer.");
    const [row] = log.query({ requestId: response.headers.get("x-triage-request-id")! });
    expect(row.label).toBe("SIMPLE");
    expect(row.feedback.map((f) => f.kind)).toEqual(["outcome", "score", "escalated", "outcome"]);
    // The gate's verdict is an outcome of the model that answered (0: failed).
    expect(row.feedback[1]).toMatchObject({ finalModel: "gpt-4o-mini", score: 0 });
    expect(row.feedback[2]).toMatchObject({ finalModel: "gpt-4o" });
    expect(row.feedback[2].note).toMatch(/SIMPLE -> MEDIUM: uncertain/);
    // 100 in / 10 out at 0.15/0.60, then 100 in / 50 out at 2.50/10.00 (USD per 1M tokens)
    expect(row.feedback[0].costUsd).toBeCloseTo((100 * 0.15 + 10 * 0.6) / 1e6, 12);
    expect(row.feedback[3].costUsd).toBeCloseTo((100 * 2.5 + 50 * 10) / 1e6, 12);
    const stats = server.proxy.stats.snapshot();
    expect(stats.rates.escalation).toBe(1);
    expect(stats.spend.byTier.SIMPLE.calls).toBe(1);
    expect(stats.spend.byTier.MEDIUM.calls).toBe(1);
  });

  it("escalates invalid JSON when JSON was asked for, stops at max hops, and runs a caller-supplied validator", async () => {
    const seen: string[] = [];
    const { client } = await serve({
      config: { providers: providers(), escalation: { maxHops: 2 }, reload: { watch: false, intervalMs: 1000 } },
      validator: ({ tier, content }) => {
        seen.push(tier);
        return content.includes("approved") ? true : { pass: false, reason: "not approved" };
      },
    });
    fakeA.setHandler((req) => ((req.body as { model: string }).model === "gpt-4o-mini" ? { type: "content", content: "{not json" } : { type: "content", content: '{"ok": true}' }));
    const res = await client()
      .chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!), response_format: { type: "json_object" } })
      .withResponse();
    // SIMPLE fails the JSON gate; MEDIUM parses but the validator rejects it; COMPLEX is reached after 2 hops and not judged.
    expect(res.response.headers.get("x-triage-tier")).toBe("COMPLEX");
    expect(seen).toEqual(["MEDIUM"]);
  });

  it("keeps the cheap answer when the escalation's providers all fail", async () => {
    const { client } = await serve();
    const down = { type: "error" as const, status: 500 };
    fakeA.setHandler((req) => ((req.body as { model: string }).model === "gpt-4o-mini" ? { type: "content", content: "" } : down));
    fakeB.setHandler(() => down);
    const res = await client()
      .chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!) })
      .withResponse();
    expect(res.response.headers.get("x-triage-tier")).toBe("SIMPLE");
  });
});

describe("provider failover", () => {
  it.each([
    ["answers 500", { type: "error", status: 500 }],
    ["rate-limits (429)", { type: "error", status: 429 }],
    ["hangs past its timeout", { type: "hang" }],
    ["sends junk", { type: "raw", body: "<html>oops</html>", contentType: "text/html" }],
  ] as const)("the first provider %s -> the second answers", async (_name, reply) => {
    const { client } = await serve({
      config: { providers: [{ ...providers()[0], timeoutMs: 300 }, providers()[1]], reload: { watch: false, intervalMs: 1000 } },
    });
    fakeA.setHandler(() => reply);
    const res = await client().chat.completions.create({ model: "auto", messages: userMessage(queries.get("MEDIUM")!) });
    expect(res.choices[0].message.content).toBe("a fine answer from B");
    expect(fakeA.chatRequests()).toHaveLength(1);
  });

  it("a refused connection fails over; a wrong key is never shown to the caller", async () => {
    const dead = await refusedPort();
    const { client } = await serve({
      config: {
        providers: [
          { name: "dead", baseURL: `http://127.0.0.1:${dead}/v1`, apiKey: "sk-dead-secret", timeoutMs: 1000 },
          { name: "wrongkey", baseURL: fakeA.baseURL, apiKey: "sk-wrong-secret-key", timeoutMs: 1000 },
        ],
        reload: { watch: false, intervalMs: 1000 },
      },
    });
    const err = (await client()
      .chat.completions.create({ model: "auto", messages: userMessage(queries.get("MEDIUM")!) })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/dead: connection.*wrongkey: status 401/);
    expect(JSON.stringify(err.error)).not.toMatch(/sk-/);
    // The details go to the server log: the refused address, but no key there either.
    const [logged] = takeServerErrors();
    expect(logged.message).toContain(`127.0.0.1:${dead}`);
    expect(logged.message).toMatch(/ECONNREFUSED/);
    expect(logged.message).not.toMatch(/sk-/);
  });

  it("never retries after the first streamed byte", async () => {
    const { client } = await serve();
    fakeA.setHandler(() => ({ type: "stream", chunks: ["one ", "two ", "three"], cutAfterChunks: 1 }));
    const stream = await client().chat.completions.create({ model: "auto", messages: userMessage(queries.get("MEDIUM")!), stream: true });
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(text).toBe("one ");
    // The caller is told the stream broke (an error event), instead of a short answer that looks complete...
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toMatch(/stream broke off/);
    // ...and nothing was retried: the second provider was never asked.
    expect(fakeB.chatRequests()).toHaveLength(0);
  });

  it("opens a provider's circuit after repeated failures and stops calling it", async () => {
    const { client } = await serve({
      config: {
        providers: [{ ...providers()[0], breaker: { failureThreshold: 2, cooldownMs: 60_000 } }, providers()[1]],
        reload: { watch: false, intervalMs: 1000 },
      },
    });
    fakeA.setHandler(() => ({ type: "error", status: 503 }));
    for (let i = 0; i < 4; i++) await client().chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!) });
    expect(fakeA.chatRequests()).toHaveLength(2);
    expect(fakeB.chatRequests()).toHaveLength(4);
  });
});

describe("no providers, stats and metrics", () => {
  it("answers chat completions with a clear 503 while /v1/route, /healthz and /metrics work", async () => {
    const r = await startServer({ model: router, config: { reload: { watch: false, intervalMs: 1000 } } });
    running.push(r);
    const err = (await r
      .client()
      .chat.completions.create({ model: "auto", messages: userMessage("hello") })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(503);
    expect(err.code).toBe("no_providers");
    expect(err.message).toMatch(/no upstream providers are configured/);
    expect((await postJson(`${r.url}/v1/route`, '{"text":"hello"}')).status).toBe(200);
    expect((await fetch(`${r.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${r.url}/metrics`)).status).toBe(200);
  });

  it("/v1/stats reports spend by tier, model and caller tag, savings, rates and latency; /metrics counts", async () => {
    const log = DecisionLog.open(join(tempDir(), "log.db"));
    const { url } = await serve({ log });
    fakeA.setHandler(() => ({ type: "content", content: "fine", usage: { prompt_tokens: 1000, completion_tokens: 1000 } }));
    const c = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0, defaultHeaders: { "x-triage-tags": "team=search" } });
    await c.chat.completions.create({ model: "auto", messages: userMessage(queries.get("SIMPLE")!), user: "alice" });
    await c.chat.completions.create({ model: "auto", messages: userMessage(queries.get("COMPLEX")!) });
    const stats = (await (await fetch(`${url}/v1/stats`)).json()) as {
      server: {
        requests: number;
        spend: { totalUsd: number; byTier: Record<string, { usd: number }>; byModel: Record<string, unknown>; byTag: Record<string, { usd: number }> };
        savings: { baselineTier: string; savingsRate: number };
        latencyMs: Record<string, { p50: number }>;
      };
      log: { count: number; cost: { totalUsd: number; baseline: { label: string } } };
    };
    const simple = (1000 * 0.15 + 1000 * 0.6) / 1e6;
    const complex = (1000 * 3 + 1000 * 15) / 1e6;
    expect(stats.server.requests).toBe(2);
    expect(stats.server.spend.byTier.SIMPLE.usd).toBeCloseTo(simple, 12);
    expect(stats.server.spend.byTier.COMPLEX.usd).toBeCloseTo(complex, 12);
    expect(Object.keys(stats.server.spend.byModel).sort()).toEqual(["claude-3-5-sonnet-latest", "gpt-4o-mini"]);
    expect(stats.server.spend.byTag["user=alice"].usd).toBeCloseTo(simple, 12);
    expect(stats.server.spend.byTag["team=search"].usd).toBeCloseTo(simple + complex, 12);
    expect(stats.server.savings.baselineTier).toBe("FRONTIER");
    expect(stats.server.savings.savingsRate).toBeGreaterThan(0.5);
    expect(stats.server.latencyMs.SIMPLE.p50).toBeGreaterThan(0);
    expect(stats.log.count).toBe(2);
    expect(stats.log.cost.totalUsd).toBeCloseTo(simple + complex, 12);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/triage_http_requests_total\{route="\/v1\/chat\/completions",status="200"\} 2/);
    expect(metrics).toMatch(/triage_decisions_total\{label="SIMPLE",decided_by="\w+"\} 1/);
    expect(metrics).toMatch(/triage_cost_usd_total\{tier="COMPLEX",model="claude-3-5-sonnet-latest"\}/);
    expect(metrics).toContain("triage_upstream_duration_seconds_bucket");
    expect(metrics).toContain("# TYPE triage_escalations_total counter");
    expect(metrics).toContain("# TYPE triage_provider_failovers_total counter");
  });
});
