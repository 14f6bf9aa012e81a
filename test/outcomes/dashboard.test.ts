/**
 * The dashboard of a server that routes with an outcome model: a real server on 127.0.0.1 serving a
 * folder registry of two outcome versions (`triage train --outcomes --registry`, real CLI processes, the
 * real encoder), one fake provider answering for every model, and a real SQLite decision log. The Models
 * page lists the versions with their models, prices and dial; promote and roll back through it switch what
 * /v1/route answers; a decision's page explains the outcome model's choice; tier-only features say so.
 */
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import Database from "better-sqlite3";
import { ModelRegistry } from "../../src/model/registry.js";
import type { OutcomeChoice } from "../../src/router/types.js";
import { DecisionLog } from "../../src/store/index.js";
import type { BrowserContext } from "playwright-core";
import { CLI } from "../helpers/cli.js";
import { findChromium, launchChromium, SKIP_REASON } from "../helpers/chromium.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir } from "../helpers/tiers.js";
import { login, type Visitor } from "../server/dashboard/helpers.js";
import { startServer, type Running } from "../server/setup.js";

const run = promisify(execFile);
const DATA_KEY = "outcome-data-key-01";
const ADMIN_KEY = "outcome-admin-key-01";
const MODELS = ["small", "medium", "large"];
const HARD = "Prove that there are infinitely many prime numbers.";

let work: string;
let registry: string;
let logPath: string;
let fake: FakeOpenAI;
let server: Running;
let user: Visitor;
let admin: Visitor;

async function triage(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: join(work, "cache.sqlite") } });
  return stdout;
}

async function route(text: string): Promise<{ model: string; modelVersion: string }> {
  const res = await fetch(`${server.url}/v1/route`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}` },
    body: JSON.stringify({ text }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { model: string; modelVersion: string };
}

/** /v1/route with headers of its own (the dial); the decision as the router made it. */
async function routeWith(text: string, headers: Record<string, string>): Promise<{ requestId: string; model: string; outcome: OutcomeChoice }> {
  const res = await fetch(`${server.url}/v1/route`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}`, ...headers },
    body: JSON.stringify({ text }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { requestId: string; model: string; outcome: OutcomeChoice };
}

/** As hono's html template writes text. */
const escaped = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

async function chat(text: string, conversation: string): Promise<string> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}`, "x-triage-conversation": conversation },
    body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: text }] }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.headers.get("x-triage-request-id")!;
}

const versionOf = (name: string) => new ModelRegistry(registry).list().find((v) => v.version === name)!.manifest!.version;

beforeAll(async () => {
  work = tempDir();
  registry = join(work, "models");
  // v0001: the strongest model's quality; v0002 (current): a cost ceiling of 0, so always the cheapest model.
  await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--registry", registry, "--encoder", "use", "--quality", "1"]);
  await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--registry", registry, "--encoder", "use", "--max-cost", "0"]);
  fake = await startFakeOpenAI();
  fake.setHandler(() => ({ type: "content", content: "an answer" }));
  logPath = join(work, "log.db");
  server = await startServer({
    model: registry,
    log: logPath,
    config: {
      providers: [{ name: "p", baseURL: fake.baseURL, apiKey: "k", timeoutMs: 5000 }],
      tiers: Object.fromEntries(MODELS.map((m, i) => [m, { providers: ["p"], price: { input: 10 ** i, output: 2 * 10 ** i } }])),
      reload: { watch: false, intervalMs: 1000 },
      auth: { tokens: [DATA_KEY], adminTokens: [ADMIN_KEY] },
    },
  });
  user = await login(server.url, DATA_KEY);
  admin = await login(server.url, ADMIN_KEY);
}, 240_000);

afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe("the Models page of an outcome registry", () => {
  it("lists each version with its models cheapest first, prices, strongest model, dial, estimator and out-of-fold figures", async () => {
    const res = await user.get("/dashboard/models");
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain('data-kind="outcomes"');
    const row = (v: string) => new RegExp(`<tr data-version="${v}"[\\s\\S]*?</tr>`).exec(html)![0];
    expect(row("v0002")).toContain("badge-current");
    for (const v of ["v0001", "v0002"]) {
      const r = row(v);
      const models = [...r.matchAll(/data-model="([^"]+)"/g)].map((m) => m[1]);
      expect(models).toEqual(MODELS);
      expect(r).toMatch(/<td data-strongest>large<\/td>/);
      expect(r).toMatch(/a prompt/); // mean cost per prompt: the data gave costs, no price list
      expect(r).toMatch(/\(\d+ folds\)/);
    }
    expect(row("v0001")).toContain("quality floor 1");
    expect(row("v0002")).toContain("cost ceiling 0");
    expect(row("v0002")).toMatch(/0\.0% · 90\.\d%|· 9\d\.\d%/); // the cheapest model saves most of the strongest's cost
    expect(html).toMatch(/data-action="promote" data-version="v0001"[^>]*disabled/);
    expect(html).toContain("Drift (novel queries, the training label mix): for tier models only");
  });

  it("promote and roll back through the dashboard switch what /v1/route answers", async () => {
    const v1 = versionOf("v0001");
    const v2 = versionOf("v0002");
    expect(await route(HARD)).toMatchObject({ model: "small", modelVersion: v2 });
    expect((await user.post("/dashboard/api/models/rollback", {})).status).toBe(403);

    const back = await admin.post("/dashboard/api/models/rollback", {});
    expect(await back.json()).toEqual({ from: "v0002", to: "v0001", reload: { ok: true, version: v1 } });
    const strict = await route(HARD);
    expect(strict.modelVersion).toBe(v1);
    expect(strict.model).not.toBe("small");
    // More traffic to the costlier model than the cheapest gets below: the overview still lists them cheapest first.
    for (let i = 0; i < 6; i++) expect((await route(HARD)).model).toBe(strict.model);
    expect(await (await user.get("/dashboard/models")).text()).toMatch(/<tr data-version="v0001" class="current">/);

    const forward = await admin.post("/dashboard/api/models/promote", { version: "v0002" });
    expect(await forward.json()).toEqual({ from: "v0001", to: "v0002", reload: { ok: true, version: v2 } });
    expect(await route(HARD)).toMatchObject({ model: "small", modelVersion: v2 });
  });
});

describe("decisions of an outcome model", () => {
  it("a decision's page shows the chosen model, its expected quality and cost, the runner-up and the conversation", async () => {
    const first = await chat(HARD, "conv-outcome-1");
    const second = await chat("And now prove it another way.", "conv-outcome-1");
    await new Promise((r) => setTimeout(r, 200)); // the log's 50 ms flush interval
    const page = await (await user.get(`/dashboard/decisions/${first}`)).text();
    expect(page).toContain("The outcome model's choice");
    expect(page).toMatch(/<strong data-chosen>small<\/strong>/);
    expect(page).toMatch(/Routed to <span class="tier-dot" data-tier="small"><\/span>small: predicted quality 0\.\d{3} at the dial<\/p>/);
    expect(page).toMatch(/<dt>Expected cost<\/dt><dd>\$/);
    expect(page).toMatch(/<span data-runner-up>(medium|large)<\/span>/);
    expect(page).toContain("conv-outcome-1");
    expect(page).not.toContain("Margin against the calibrated threshold");
    expect(page).toContain("Nearest training examples: for tier models only");
    const kept = await (await user.get(`/dashboard/decisions/${second}`)).text();
    expect(kept).toContain("model kept from an earlier turn");
    expect(kept).toContain("kept for the conversation");

    // A score for the model that answered (the proxy logs gate verdicts as scores too): a badge, and a feedback filter of its own.
    const scored = await fetch(`${server.url}/v1/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}` },
      body: JSON.stringify({ requestId: first, score: 0.4 }),
    });
    expect(scored.status, await scored.clone().text()).toBe(200);
    const withScore = await (await user.get("/dashboard/decisions?feedback=score")).text();
    const row = new RegExp(`<tr data-request-id="${first}">[\\s\\S]*?</tr>`).exec(withScore)?.[0];
    expect(row).toContain("score 0.40 (small)");
    expect(await (await user.get(`/dashboard/decisions/${first}`)).text()).toContain("score 0.40 (small)");

    const list = await (await user.get("/dashboard/decisions")).text();
    expect(list).toContain(`data-request-id="${first}"`);
    expect(list).toMatch(/predicted quality \d\.\d{3} at the dial/);

    const api = (await (await user.get(`/dashboard/api/decisions/${first}`)).json()) as { version: string; nearest: { unavailable: string } };
    expect(api.version).toBe("v0002");
    expect(api.nearest.unavailable).toMatch(/for tier models only/);
  });

  it("the log keeps each decision's own dial, and its page shows it and explains the choice at it", async () => {
    const asked = await routeWith(HARD, { "x-triage-quality": "0.5" });
    const plain = await routeWith(HARD, {});
    expect(asked.outcome.dial).toMatchObject({ quality: 0.5, from: "request" });
    expect(plain.outcome.dial).toMatchObject({ maxCost: 0, from: "default" }); // v0002's default
    // The decisions as logged (SQLite, read by another process's view of the file): each with the dial it was made at.
    const log = DecisionLog.open(logPath, { readonly: true });
    try {
      await vi.waitFor(() => expect(log.count({ requestIdPrefix: plain.requestId })).toBe(1), { timeout: 10_000, interval: 50 });
      expect(log.query({ requestId: asked.requestId })[0].dial).toEqual(asked.outcome.dial);
      expect(log.query({ requestId: plain.requestId })[0].dial).toEqual(plain.outcome.dial);
    } finally {
      log.close();
    }

    const page = await (await user.get(`/dashboard/decisions/${asked.requestId}`)).text();
    expect(page).toMatch(/<dd data-dial>quality floor 0\.5, set by the request <span class="muted small">\(the choice rule: (tolerance|lambda) [\d.]+\)<\/span><\/dd>/);
    expect(page).toContain(`<dd data-why>${escaped(asked.outcome.why)}</dd>`);
    expect(page).not.toContain("dial setting is not logged");
    const byDefault = await (await user.get(`/dashboard/decisions/${plain.requestId}`)).text();
    expect(byDefault).toContain("<dd data-dial>cost ceiling 0, the deployment&#39;s default");
    expect(byDefault).toContain(`<dd data-why>${escaped(plain.outcome.why)}</dd>`);

    // A row logged before the log kept dials (schema 4): explained as before, and says so.
    const db = new Database(logPath);
    try {
      db.prepare(
        `INSERT INTO decisions (ts, request_id, model_version, text, text_hash, text_length, label, model_label, confidence, margin, scores, decided_by, stage, low_confidence, fallback_used, latency_ms)
         SELECT ts, 'no-dial-1', model_version, text, text_hash, text_length, label, model_label, confidence, margin, scores, decided_by, stage, low_confidence, fallback_used, latency_ms FROM decisions WHERE request_id = ?`,
      ).run(asked.requestId);
    } finally {
      db.close();
    }
    const old = await (await user.get("/dashboard/decisions/no-dial-1")).text();
    expect(old).toContain('<dl class="facts" data-outcome>');
    expect(old).toContain("The request&#39;s dial setting is not logged.");
    expect(old).not.toContain("data-dial");
    expect(old).not.toContain("data-why");
  });

  it("the overview counts and prices decisions per model", async () => {
    expect((await user.get("/dashboard")).status).toBe(200);
    type Overview = { totals: { requests: number; spendUsd: number; compared: number; savingsRate: number | null }; series: { tiers: { name: string; counts: number[] }[] } };
    // The overview's figures are refreshed at most once a second: wait (bounded) until they include the chats above.
    let data: Overview | undefined;
    await vi.waitFor(
      async () => {
        data = (await (await user.get("/dashboard/api/overview?range=24h")).json()) as Overview;
        expect(data!.totals.compared).toBeGreaterThanOrEqual(2);
      },
      { timeout: 10_000, interval: 200 },
    );
    // The models routed to in the model's order, cheapest first (not by volume), each with its count.
    const names = data!.series.tiers.map((t) => t.name);
    expect(names).toHaveLength(2);
    expect(names[0]).toBe("small");
    expect(names).toEqual(MODELS.filter((m) => names.includes(m)));
    const sum = (name: string) => data!.series.tiers.find((t) => t.name === name)!.counts.reduce((a, b) => a + b, 0);
    expect(names.reduce((a, n) => a + sum(n), 0)).toBe(data!.totals.requests);
    // The chat calls went to the cheapest model, priced by the server's per-model prices, against always calling the costliest.
    expect(data!.totals.spendUsd).toBeGreaterThan(0);
    expect(data!.totals.compared).toBeGreaterThan(0);
    expect(data!.totals.savingsRate).toBeGreaterThan(0.9);
  });
});

describe("after an outcome retrain", () => {
  it("the Models page shows the retrain report: promoted or not, why, candidate and current AIQ and saving", async () => {
    // An application's thumbs down is an outcome of the model that answered: something for retrain to learn.
    const id = await chat("What is the capital of Peru?", "conv-outcome-2");
    await new Promise((r) => setTimeout(r, 200));
    const fb = await fetch(`${server.url}/v1/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}` },
      body: JSON.stringify({ requestId: id, thumbs: "down" }),
    });
    expect(fb.status, await fb.clone().text()).toBe(200);
    await triage(["retrain", "--registry", registry, "--data", "data/outcomes/example.jsonl", "--log-db", logPath, "--eval", "data/outcomes/example.jsonl"]);
    const report = new ModelRegistry(registry).readReport("v0003") as { promoted: boolean; reason: string };
    const html = await (await user.get("/dashboard/models")).text();
    const row = /<tr data-version="v0003"[\s\S]*?<\/tr>/.exec(html)![0];
    expect(row).toContain(report.promoted ? "promoted" : "kept out");
    expect(row).toMatch(/candidate v0003:<\/div><div class="nowrap">AIQ 0\.\d{3} · saving \d+\.\d%/);
    expect(row).toMatch(/current v0002:<\/div><div class="nowrap">AIQ 0\.\d{3} · saving \d+\.\d%/);
    expect(row).toContain(report.reason.replace(/'/g, "&#39;").slice(0, 40));
  }, 60_000);
});

describe("triage dashboard on the log, without the server", () => {
  it("shows the outcome registry's versions and explains its decisions", async () => {
    const child = spawn(process.execPath, [...CLI, "dashboard", "--log-db", logPath, "--model", registry, "--port", "0", "--host", "127.0.0.1"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TRIAGE_API_KEYS: "", TRIAGE_ADMIN_KEYS: "" },
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const { port } = await new Promise<{ port: number }>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line) as { port: number }));
        void exited.then((code) => reject(new Error(`triage dashboard exited (${String(code)})`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const models = await (await fetch(`${base}/dashboard/models`)).text();
      for (const v of ["v0001", "v0002", "v0003"]) expect(models).toContain(`<tr data-version="${v}"`);
      expect(models).toContain('data-kind="outcomes"');
      const decisions = await (await fetch(`${base}/dashboard/decisions`)).text();
      const id = /data-request-id="([^"]+)"/.exec(decisions)![1];
      const page = await fetch(`${base}/dashboard/decisions/${id}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("The outcome model's choice");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, 60_000);
});

describe("tier-only features", () => {
  it("Review and labels say they are for tier models instead of failing", async () => {
    const review = await user.get("/dashboard/review");
    expect(review.status).toBe(200);
    expect(await review.text()).toContain("Review (labelling queries): for tier models only");
    const label = await user.post("/dashboard/api/feedback", { requestId: "whatever", label: "small" });
    expect(label.status).toBe(400);
    expect(((await label.json()) as { error: { message: string } }).error.message).toMatch(/^label: labels: for tier models only/);
  });
});

const chromiumPath = findChromium();
if (!chromiumPath && !process.env.CI) console.log(SKIP_REASON);

describe.skipIf(!chromiumPath && !process.env.CI)("in Chromium", () => {
  let browser: BrowserContext | undefined;
  afterAll(() => browser?.close());

  it("an admin promotes an outcome version from the Models page, and a decision's page explains the choice", async () => {
    if (!chromiumPath) throw new Error("browser tests: no Chromium found and CI is set, so they cannot be skipped: apt-get install -y chromium (or set TRIAGE_CHROMIUM)");
    const shots = process.env.TRIAGE_SCREENSHOTS ?? tempDir("triage-screenshots-");
    browser = await launchChromium(chromiumPath);
    const page = browser.pages()[0] ?? (await browser.newPage());
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/dashboard\/login/);
    await page.fill("#key", ADMIN_KEY);
    await Promise.all([page.waitForURL(/\/dashboard$/), page.click("button[type=submit]")]);

    await page.goto(`${server.url}/dashboard/models`);
    expect(await page.locator('tr[data-version="v0001"] [data-models] [data-model]').allTextContents()).toEqual([
      expect.stringMatching(/^small /),
      expect.stringMatching(/^medium /),
      expect.stringMatching(/^large /),
    ]);
    page.once("dialog", (d) => void d.accept());
    await Promise.all([page.waitForEvent("load"), page.click('tr[data-version="v0001"] button[data-action="promote"]')]);
    await expect.poll(() => page.locator('tr[data-version="v0001"] .badge-current').count()).toBe(1);
    expect(await route(HARD)).toMatchObject({ modelVersion: versionOf("v0001") });
    await page.screenshot({ path: join(shots, "dashboard-outcome-models.png"), fullPage: true });

    await page.goto(`${server.url}/dashboard/decisions`);
    await Promise.all([page.waitForURL(/\/dashboard\/decisions\/.+/), page.click("table.decisions tbody tr a")]);
    expect(await page.locator("[data-chosen]").textContent()).toMatch(/^(small|medium|large)$/);
    await page.screenshot({ path: join(shots, "dashboard-outcome-decision.png"), fullPage: true });
    expect(problems).toEqual([]);
  }, 120_000);
});
