/** The API surface a client meets first: GET /v1/models, POST /v1/feedback, /healthz in words, key errors that name their source. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlmClassifier } from "../../src/fallback/index.js";
import { Router } from "../../src/router/router.js";
import { DecisionLog } from "../../src/store/index.js";
import { CLI } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir, trainTiers, useEncoder } from "../helpers/tiers.js";
import { loadRouter, postJson, startServer, takeServerErrors, TIER_MODELS, type Running } from "./setup.js";

let modelDir: string;
let router: Router;
let fake: FakeOpenAI;
const running: Running[] = [];
const noWatch = { watch: false, intervalMs: 1000 };
const LABELS = ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"];

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

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

describe("GET /v1/models", () => {
  it("lists the routed names and route groups in OpenAI's shape, with what each routes among, and says other names pass through", async () => {
    const { url, client, server } = await serve({
      config: {
        providers: [{ name: "fake", baseURL: fake.baseURL }],
        models: { auto: ["auto", "triage"], groups: { cheap: ["SIMPLE", "MEDIUM"], gone: ["NOPE"] } },
        auth: { tokens: ["data-key-123"] },
        reload: noWatch,
      },
    });
    const models = await client("data-key-123").models.list();
    expect(models.data.map((m) => m.id)).toEqual(["auto", "triage", "cheap"]);
    const created = Math.floor(Date.parse(server.router.manifest.createdAt) / 1000);
    for (const m of models.data) expect(m).toMatchObject({ object: "model", owned_by: "triage", created });
    const body = (await (await fetch(`${url}/v1/models`, { headers: { authorization: "Bearer data-key-123" } })).json()) as {
      object: string;
      data: { id: string; triage: { kind: string; routes: { name: string; model: string | null }[] } }[];
      passthrough: { enabled: boolean; note: string };
    };
    expect(body.object).toBe("list");
    expect(body.data[0].triage).toEqual({ kind: "auto", routes: LABELS.map((name) => ({ name, model: TIER_MODELS[name] })) });
    expect(body.data[2].triage).toEqual({
      kind: "group",
      routes: [
        { name: "SIMPLE", model: "gpt-4o-mini" },
        { name: "MEDIUM", model: "gpt-4o" },
      ],
    });
    expect(body.passthrough).toEqual({ enabled: true, note: expect.stringMatching(/any other model name is forwarded unchanged/) });
    expect((await fetch(`${url}/v1/models`)).status).toBe(401); // a data-plane endpoint

    const closed = await serve({ config: { providers: [{ name: "fake", baseURL: fake.baseURL }], models: { passthrough: false }, reload: noWatch } });
    const list = (await (await fetch(`${closed.url}/v1/models`)).json()) as { data: { id: string }[]; passthrough: { enabled: boolean } };
    expect(list.data.map((m) => m.id)).toEqual(["auto"]);
    expect(list.passthrough.enabled).toBe(false);
  });
});

describe("POST /v1/feedback", () => {
  it("records a label, thumbs or escalation for a logged decision by full id or unique prefix, as the CLI does", async () => {
    const logPath = join(tempDir(), "decisions.db");
    const { url } = await serve({ log: logPath, config: { providers: [{ name: "fake", baseURL: fake.baseURL }], auth: { tokens: ["data-key-123"] }, reload: noWatch } });
    const auth = { authorization: "Bearer data-key-123" };
    const route = async (text: string) => ((await (await postJson(`${url}/v1/route`, JSON.stringify({ text }), auth)).json()) as { requestId: string; label: string }).requestId;
    const first = await route("Summarise this article in three bullet points");
    const second = await route("Prove that there are infinitely many primes");

    const ok = await postJson(`${url}/v1/feedback`, JSON.stringify({ requestId: first.slice(0, 8), label: "MEDIUM", note: "from the app" }), auth);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ feedbackId: expect.any(Number), requestId: first, kind: "label", humanLabel: "MEDIUM", note: "from the app" });
    const thumbs = await postJson(`${url}/v1/feedback`, JSON.stringify({ requestId: second, thumbs: "down", finalModel: "o1", tokensIn: 12, tokensOut: 40, cost: 0.0123 }), auth);
    expect(await thumbs.json()).toMatchObject({ requestId: second, kind: "thumbs", thumbs: -1, finalModel: "o1", tokensIn: 12, tokensOut: 40, costUsd: 0.0123 });
    expect((await (await postJson(`${url}/v1/feedback`, JSON.stringify({ requestId: second, label: "out-of-scope" }), auth)).json()) as object).toMatchObject({
      humanLabel: "out-of-scope",
    });

    const log = DecisionLog.open(logPath, { readonly: true });
    const rows = log.query();
    log.close();
    expect(rows.find((r) => r.requestId === first)!.feedback.map((f) => [f.kind, f.humanLabel])).toEqual([["label", "MEDIUM"]]);
    expect(rows.find((r) => r.requestId === second)!.feedback.map((f) => f.kind)).toEqual(["thumbs", "label"]);

    // Refusals: OpenAI-style, naming the field, never the log's path.
    const refused = async (body: unknown, headers: Record<string, string> = auth) => {
      const res = await postJson(`${url}/v1/feedback`, JSON.stringify(body), headers);
      const json = (await res.json()) as ErrorBody;
      expect(JSON.stringify(json)).not.toContain(logPath);
      return { status: res.status, ...json.error };
    };
    expect(await refused({ requestId: first, label: "URGENT" })).toMatchObject({
      status: 400,
      param: "label",
      code: "unknown_label",
      message: expect.stringMatching(/label "URGENT" is not one of the model's labels \(SIMPLE, MEDIUM, COMPLEX, FRONTIER\)/),
    });
    expect(await refused({ requestId: "0000000000-none", thumbs: "up" })).toMatchObject({ status: 404, param: "requestId", code: "unknown_request_id" });
    expect(await refused({ requestId: first.slice(0, 3), thumbs: "up" })).toMatchObject({ status: 400, param: "requestId", code: "request_id_too_short" });
    expect(await refused({ requestId: first, label: "MEDIUM", thumbs: "up" })).toMatchObject({
      status: 400,
      code: "invalid_feedback",
      message: "give one of label, thumbs, score or escalated per call",
    });
    expect(await refused({ requestId: first })).toMatchObject({ status: 400, code: "invalid_feedback", message: expect.stringMatching(/^nothing to record/) });
    expect(await refused({ requestId: first, thumbs: "sideways" })).toMatchObject({ status: 400, param: "thumbs" });
    expect(await refused({ requestId: first, tokensIn: -1 })).toMatchObject({ status: 400, param: "tokensIn" });
    expect(await refused({ label: "SIMPLE" })).toMatchObject({ status: 400, param: "requestId", code: "missing_required_parameter" });
    expect(await refused({ requestId: first, label: "SIMPLE", colour: "red" })).toMatchObject({ status: 400 });
    expect(await refused({ requestId: first, thumbs: "up" }, {})).toMatchObject({ status: 401, type: "authentication_error" });
    const text = await fetch(`${url}/v1/feedback`, { method: "POST", body: "requestId=x", headers: { ...auth, "content-type": "text/plain" } });
    expect(text.status).toBe(415);
  });

  it("an ambiguous prefix is refused without naming the other requests; without a log, a clear 503", async () => {
    const logPath = join(tempDir(), "decisions.db");
    const log = DecisionLog.open(logPath);
    const { url } = await serve({ log });
    const d = await router.classify("Translate good morning into Spanish", { requestId: "abcdefgh-0001" });
    log.log(d, "Translate good morning into Spanish");
    log.log({ ...d, requestId: "abcdefgh-0002" }, "Translate good night into Spanish");
    const res = await postJson(`${url}/v1/feedback`, JSON.stringify({ requestId: "abcdefgh", label: "MEDIUM" }));
    const body = (await res.json()) as ErrorBody;
    expect(res.status).toBe(400);
    expect(body.error).toMatchObject({
      param: "requestId",
      code: "ambiguous_request_id",
      message: 'request id prefix "abcdefgh" matches more than one decision; give more of the id',
    });
    expect((await (await postJson(`${url}/v1/feedback`, JSON.stringify({ requestId: "abcdefgh-0002", label: "MEDIUM" }))).json()) as object).toMatchObject({
      requestId: "abcdefgh-0002",
    });
    log.close();

    const none = await serve();
    const r = await postJson(`${none.url}/v1/feedback`, JSON.stringify({ requestId: "abcdefgh-0002", label: "MEDIUM" }));
    expect(r.status).toBe(503);
    expect(((await r.json()) as ErrorBody).error).toMatchObject({ code: "no_decision_log", message: expect.stringMatching(/--log-db FILE/) });
  });
});

describe("/healthz", () => {
  it("says in words whether each provider is healthy, down or recovering", async () => {
    const failing = await startFakeOpenAI({ handler: () => ({ type: "error", status: 500 }) });
    try {
      const { url, client } = await serve({
        config: {
          providers: [
            { name: "flaky", baseURL: failing.baseURL, breaker: { failureThreshold: 1, cooldownMs: 60_000 } },
            { name: "fake", baseURL: fake.baseURL },
          ],
          reload: noWatch,
        },
      });
      const health = async () => ((await (await fetch(`${url}/healthz`)).json()) as { providers: Record<string, string> }).providers;
      expect(await health()).toEqual({ flaky: "healthy", fake: "healthy" });
      await client().chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hello there" }] }); // fails over to fake
      expect(await health()).toEqual({ flaky: "down", fake: "healthy" });
    } finally {
      await failing.close();
      takeServerErrors();
    }
  });
});

describe("/healthz of a server with a fallback classifier", () => {
  /** A classifier whose endpoint answers 500, with a breaker that opens on the first failure. */
  const deadClassifier = (dead: FakeOpenAI) =>
    new LlmClassifier({ baseURL: dead.baseURL, model: "tiny-classifier", timeoutMs: 2000, maxRetries: 0, breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
  const health = async (at: string) => (await (await fetch(`${at}/healthz`)).json()) as { fallback?: string; providers: object };
  const failOnce = (classifier: LlmClassifier) => classifier.classify({ text: "hard or not?", labels: [{ name: "SIMPLE" }, { name: "MEDIUM" }] });

  it("says whether the classifier's endpoint is healthy or down; a server without one does not mention it", async () => {
    const dead = await startFakeOpenAI({ handler: () => ({ type: "error", status: 500 }) });
    try {
      const classifier = deadClassifier(dead);
      const { url } = await serve({ model: modelDir, fallback: classifier });
      expect((await health(url)).fallback).toBe("healthy");
      expect((await failOnce(classifier)).error).toMatch(/500/);
      expect((await health(url)).fallback).toBe("down");
      expect(await health((await serve()).url)).not.toHaveProperty("fallback");
    } finally {
      await dead.close();
    }
  });

  it("reports the classifier of a Router passed in ready-made", async () => {
    const dead = await startFakeOpenAI({ handler: () => ({ type: "error", status: 500 }) });
    const classifier = deadClassifier(dead);
    const ready = await Router.load(modelDir, { encoder: await useEncoder(), fallback: classifier });
    try {
      const { url } = await serve({ model: ready });
      expect((await health(url)).fallback).toBe("healthy");
      expect((await failOnce(classifier)).error).toMatch(/500/);
      expect((await health(url)).fallback).toBe("down");
    } finally {
      await dead.close();
      await ready.close();
    }
  });
});

describe("TRIAGE_API_KEYS", () => {
  it("a key that is too short is an error naming the environment variable, which key, and the rule, not the server config", async () => {
    const child = spawn(process.execPath, [...CLI, "serve", "--model", modelDir, "--port", "0"], {
      env: { ...process.env, TRIAGE_API_KEYS: "secret1,secret2" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      "triage: environment variable TRIAGE_API_KEYS: key 1 of 2 (7 characters): a key needs at least 8 characters; keys are comma-separated, at least 8 characters each, e.g. from `openssl rand -hex 24`",
    );
    expect(stderr).not.toMatch(/server config|secret1/);
  });
});
