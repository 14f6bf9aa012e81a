import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LlmClassifier, type FallbackConfigInput } from "../../src/fallback/index.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";

const labels = [
  { name: "cheap", description: "small talk and simple lookups" },
  { name: "strong", description: "multi-step reasoning, code, maths" },
];
const examples = [
  { text: "what's the capital of France", label: "cheap" },
  { text: 'prove that "sqrt 2" is irrational', label: "strong" },
];

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: "sk-test" });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.setHandler(() => ({ type: "content", content: '{"label":"cheap"}' }));
});

function classifier(overrides: Partial<FallbackConfigInput> = {}): LlmClassifier {
  return new LlmClassifier({ baseURL: fake.baseURL, apiKey: "sk-test", model: "tiny-router", timeoutMs: 1000, ...overrides });
}

describe("LlmClassifier against an OpenAI-compatible server", () => {
  it("returns the label the model picked, with usage and cost", async () => {
    fake.enqueue({ type: "content", content: '{"label":"strong"}', usage: { prompt_tokens: 120, completion_tokens: 6 } });
    const c = classifier({ price: { input: 1, output: 2 } });
    const result = await c.classify({ text: "write a parser for TOML", labels, examples, localLabel: "cheap" });
    expect(result.label).toBe("strong");
    expect(result.error).toBeUndefined();
    expect(result.usage).toEqual({ promptTokens: 120, completionTokens: 6 });
    expect(result.costUsd).toBeCloseTo((120 * 1 + 6 * 2) / 1e6, 12);
    const stats = c.stats();
    expect(stats.calls).toBe(1);
    expect(stats.answered).toBe(1);
    expect(stats.agreement).toEqual({ compared: 1, agreed: 0, rate: 0 });
    expect(stats.tokens).toEqual({ prompt: 120, completion: 6 });
    expect(stats.costUsd).toBeCloseTo(132e-6, 12);
  });

  it("sends the labels, their descriptions, the examples, the query and a json_schema response_format", async () => {
    await classifier().classify({ text: "how are you today?", labels, examples });
    const [req] = fake.chatRequests();
    expect(req.headers.authorization).toBe("Bearer sk-test");
    const body = req.body as {
      model: string;
      temperature: number;
      messages: Array<{ role: string; content: string }>;
      response_format: { type: string; json_schema: { strict: boolean; schema: { properties: { label: { enum: string[] } } } } };
    };
    expect(body.model).toBe("tiny-router");
    expect(body.temperature).toBe(0);
    const system = body.messages[0];
    expect(system.role).toBe("system");
    expect(system.content).toContain("- cheap: small talk and simple lookups");
    expect(system.content).toContain("- strong: multi-step reasoning, code, maths");
    expect(system.content).toContain('"what\'s the capital of France" -> cheap');
    expect(system.content).toContain('"prove that \\"sqrt 2\\" is irrational" -> strong');
    expect(body.messages[1]).toEqual({ role: "user", content: "how are you today?" });
    expect(body.response_format.type).toBe("json_schema");
    expect(body.response_format.json_schema.strict).toBe(true);
    expect(body.response_format.json_schema.schema.properties.label.enum).toEqual(["cheap", "strong"]);
  });

  it("accepts a bare label and a fenced JSON answer", async () => {
    fake.enqueue({ type: "content", content: " strong\n" }, { type: "content", content: '```json\n{"label": "cheap"}\n```' });
    const c = classifier();
    expect((await c.classify({ text: "a", labels })).label).toBe("strong");
    expect((await c.classify({ text: "b", labels })).label).toBe("cheap");
  });

  it("rejects a label that is not in the list", async () => {
    fake.enqueue({ type: "content", content: '{"label":"premium"}' }, { type: "content", content: "Cheap" });
    const c = classifier();
    const unknown = await c.classify({ text: "x", labels });
    expect(unknown.label).toBeNull();
    expect(unknown.error).toMatch(/^invalid label "premium"/);
    expect(unknown.failure).toBe("invalid_label");
    const wrongCase = await c.classify({ text: "y", labels });
    expect(wrongCase.label).toBeNull();
    expect(wrongCase.error).toMatch(/^invalid label/);
    expect(c.stats().failures.invalid_label).toBe(2);
  });

  it("rejects extra keys and prose around the label", async () => {
    fake.enqueue({ type: "content", content: '{"label":"cheap","why":"easy"}' }, { type: "content", content: "The label is cheap." });
    const c = classifier();
    for (const text of ["a", "b"]) {
      const r = await c.classify({ text, labels });
      expect(r.label).toBeNull();
      expect(r.error).toMatch(/^invalid label/);
    }
  });

  it("turns a junk (non-JSON) body into an error, not a label", async () => {
    fake.enqueue({ type: "raw", body: "<html>502 Bad Gateway</html>", contentType: "application/json" }, { type: "raw", body: "definitely not json", contentType: "text/plain" });
    const c = classifier();
    for (const text of ["a", "b"]) {
      const r = await c.classify({ text, labels });
      expect(r.label).toBeNull();
      expect(r.failure).toBe("invalid_response");
      expect(r.error).toMatch(/^invalid response/);
    }
  });

  it("retries a 500 once within the budget, then reports it", async () => {
    fake.enqueue({ type: "error", status: 500, message: "upstream exploded" }, { type: "content", content: '{"label":"strong"}' });
    const c = classifier({ maxRetries: 1 });
    expect((await c.classify({ text: "a", labels })).label).toBe("strong");
    expect(fake.chatRequests()).toHaveLength(2);

    fake.setHandler(() => ({ type: "error", status: 500, message: "upstream exploded" }));
    const failed = await c.classify({ text: "b", labels });
    expect(failed.label).toBeNull();
    expect(failed.error).toBe("HTTP 500: upstream exploded");
    expect(failed.failure).toBe("server_error");
    expect(fake.chatRequests()).toHaveLength(4); // 1 + 1 retry
  });

  it("reports a 429 as rate limited without retrying when maxRetries is 0", async () => {
    fake.setHandler(() => ({ type: "error", status: 429, message: "slow down" }));
    const c = classifier({ maxRetries: 0 });
    const r = await c.classify({ text: "a", labels });
    expect(r).toMatchObject({ label: null, failure: "rate_limit", error: "rate limited (HTTP 429: slow down)" });
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it("gives up on a server that hangs, with a timeout error and a null label", async () => {
    fake.setHandler(() => ({ type: "hang" }));
    const c = classifier({ timeoutMs: 200 });
    const r = await c.classify({ text: "a", labels, localLabel: "cheap" });
    expect(r.label).toBeNull();
    expect(r.failure).toBe("timeout");
    expect(r.error).toBe("timeout after 200 ms");
    expect(c.stats().failures.timeout).toBe(1);
    expect(c.stats().agreement.compared).toBe(0);
  });

  it("reports a refused connection", async () => {
    const closed = await startFakeOpenAI();
    const baseURL = closed.baseURL;
    await closed.close();
    const c = new LlmClassifier({ baseURL, model: "m", timeoutMs: 1000, maxRetries: 0 });
    const r = await c.classify({ text: "a", labels });
    expect(r.label).toBeNull();
    expect(r.failure).toBe("connection");
    expect(r.error).toMatch(/^connection failed: .*ECONNREFUSED/);
  });

  it("opens the circuit after repeated failures, fails fast while open, and closes after a good trial call", async () => {
    fake.setHandler(() => ({ type: "error", status: 503, message: "down" }));
    const c = classifier({ maxRetries: 0, breaker: { failureThreshold: 3, cooldownMs: 150 } });
    for (let i = 0; i < 3; i++) expect((await c.classify({ text: `q${i}`, labels })).failure).toBe("server_error");
    expect(c.stats().breaker).toBe("open");

    const rejected = await c.classify({ text: "while open", labels });
    expect(rejected).toMatchObject({ label: null, error: "circuit open", failure: "circuit_open" });
    expect(fake.chatRequests()).toHaveLength(3); // the open circuit sent nothing

    await new Promise((r) => setTimeout(r, 200));
    expect(c.stats().breaker).toBe("half-open");
    fake.setHandler(() => ({ type: "content", content: '{"label":"cheap"}' }));
    expect((await c.classify({ text: "trial", labels })).label).toBe("cheap");
    expect(c.stats().breaker).toBe("closed");
    expect((await c.classify({ text: "after", labels })).label).toBe("cheap");
    expect(c.stats().failures).toMatchObject({ server_error: 3, circuit_open: 1 });
  });

  it("re-opens the circuit when the half-open trial call fails", async () => {
    fake.setHandler(() => ({ type: "error", status: 500 }));
    const c = classifier({ maxRetries: 0, breaker: { failureThreshold: 2, cooldownMs: 100 } });
    await c.classify({ text: "a", labels });
    await c.classify({ text: "b", labels });
    await new Promise((r) => setTimeout(r, 150));
    expect((await c.classify({ text: "trial", labels })).failure).toBe("server_error");
    expect(c.stats().breaker).toBe("open");
    expect((await c.classify({ text: "c", labels })).error).toBe("circuit open");
  });

  it("lets a single trial call through while half-open; concurrent calls still fail fast", async () => {
    fake.setHandler(() => ({ type: "error", status: 500 }));
    const c = classifier({ maxRetries: 0, breaker: { failureThreshold: 1, cooldownMs: 50 } });
    await c.classify({ text: "a", labels });
    await new Promise((r) => setTimeout(r, 80));
    fake.setHandler(() => ({ type: "content", content: '{"label":"strong"}', delayMs: 100 }));
    const [trial, concurrent] = await Promise.all([c.classify({ text: "trial", labels }), c.classify({ text: "other", labels })]);
    expect(trial.label).toBe("strong");
    expect(concurrent.error).toBe("circuit open");
    expect(fake.chatRequests()).toHaveLength(2); // the first failure and the trial
  });

  it("drops response_format for good when the endpoint rejects it, and parses strictly instead", async () => {
    fake.setHandler((req) =>
      (req.body as { response_format?: unknown }).response_format
        ? { type: "error", status: 400, message: "response_format json_schema is not supported" }
        : { type: "content", content: "strong" },
    );
    const c = classifier();
    expect((await c.classify({ text: "a", labels })).label).toBe("strong");
    expect((await c.classify({ text: "b", labels })).label).toBe("strong");
    const sent = fake.chatRequests().map((r) => "response_format" in r.body);
    expect(sent).toEqual([true, false, false]);
  });

  it("keeps response_format when the 400 was about something else", async () => {
    fake.setHandler(() => ({ type: "error", status: 400, message: "unknown model" }));
    const c = classifier();
    const r = await c.classify({ text: "a", labels });
    expect(r).toMatchObject({ label: null, failure: "http_error", error: "HTTP 400: unknown model" });
    fake.setHandler(() => ({ type: "content", content: '{"label":"cheap"}' }));
    await c.classify({ text: "b", labels });
    expect(fake.chatRequests().map((q) => "response_format" in q.body)).toEqual([true, false, true]);
  });

  it("never sends response_format when structuredOutput is off", async () => {
    await classifier({ structuredOutput: "off" }).classify({ text: "a", labels });
    expect("response_format" in fake.chatRequests()[0].body).toBe(false);
  });

  it("counts agreement with the local top-1 and latency percentiles", async () => {
    fake.enqueue({ type: "content", content: '{"label":"cheap"}' }, { type: "content", content: '{"label":"strong"}' }, { type: "content", content: '{"label":"cheap"}' });
    const c = classifier();
    for (const text of ["a", "b", "c"]) await c.classify({ text, labels, localLabel: "cheap" });
    await c.classify({ text: "no local label", labels });
    const s = c.stats();
    expect(s.agreement).toEqual({ compared: 3, agreed: 2, rate: 2 / 3 });
    expect(s.latencyMs.p50).toBeGreaterThan(0);
    expect(s.latencyMs.p95).toBeGreaterThanOrEqual(s.latencyMs.p50 ?? Infinity);
    expect(s.costUsd).toBeNull(); // no price configured
  });

  it("sends at most maxExamples examples and cuts long text", async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ text: `example ${i}`, label: "cheap" }));
    await classifier({ maxExamples: 3, maxTextChars: 10 }).classify({ text: "0123456789abcdef", labels, examples: many });
    const body = fake.chatRequests()[0].body as { messages: Array<{ content: string }> };
    expect(body.messages[0].content).toContain('"example 2" -> cheap');
    expect(body.messages[0].content).not.toContain('"example 3"');
    expect(body.messages[1].content).toBe("0123456789");
  });

  it("answers a bad request (no labels) without calling the endpoint", async () => {
    const r = await classifier().classify({ text: "a", labels: [] });
    expect(r).toMatchObject({ label: null, failure: "bad_request" });
    expect(fake.chatRequests()).toHaveLength(0);
  });
});
