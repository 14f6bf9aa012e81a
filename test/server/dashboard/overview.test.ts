/**
 * The dashboard in `triage serve`: login with the API's keys, the overview's numbers from real traffic
 * (chat completions through the fake provider, logged with tags, costs and a quality-gate escalation),
 * filters by caller tag, and the dashboard left out on request.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Router } from "../../../src/router/router.js";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";
import { tempDir, trainTiers } from "../../helpers/tiers.js";
import { loadRouter, queriesPerTier, startServer, type Running } from "../setup.js";
import { login } from "./helpers.js";

const DATA_KEY = "data-key-0001";
const ADMIN_KEY = "admin-key-0001";
let router: Router;
let fake: FakeOpenAI;
let queries: Map<string, string>;
const running: Running[] = [];

beforeAll(async () => {
  router = await loadRouter((await trainTiers(20)).dir);
  queries = await queriesPerTier(router);
  fake = await startFakeOpenAI({ handler: () => ({ type: "content", content: "Here is a complete answer.", usage: { prompt_tokens: 1000, completion_tokens: 500 } }) });
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await fake?.close();
  await router?.close();
});

async function serve(options: { auth?: boolean; dashboard?: false } = {}): Promise<Running> {
  const r = await startServer({
    model: router,
    log: join(tempDir(), "log.db"),
    config: {
      providers: [{ name: "fake", baseURL: fake.baseURL }],
      reload: { watch: false, intervalMs: 1000 },
      ...(options.auth === false ? {} : { auth: { tokens: [DATA_KEY], adminTokens: [ADMIN_KEY] } }),
    },
    ...(options.dashboard === false ? { dashboard: false as const } : {}),
  });
  running.push(r);
  return r;
}

const chat = (r: Running, text: string, tags: string) =>
  fetch(`${r.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}`, "x-triage-tags": tags },
    body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: text }] }),
  });

describe("dashboard login", () => {
  it("sends visitors without a session to the login page, and takes the API's keys of either role", async () => {
    const r = await serve();
    const root = await fetch(`${r.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/dashboard");
    const page = await fetch(`${r.url}/dashboard?range=7d`, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/dashboard/login?next=%2Fdashboard%3Frange%3D7d");
    const api = await fetch(`${r.url}/dashboard/api/overview`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("login_required");

    const wrong = await fetch(`${r.url}/dashboard/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "key=not-a-key-at-all",
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("not one of this server");
    const crossSite = await fetch(`${r.url}/dashboard/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
      body: `key=${ADMIN_KEY}`,
    });
    expect(crossSite.status).toBe(403);

    for (const [key, role] of [
      [DATA_KEY, "data plane"],
      [ADMIN_KEY, "admin"],
    ]) {
      const v = await login(r.url, key);
      const html = await (await v.get("/dashboard")).text();
      expect(html).toContain(`>${role}</span>`);
      expect(v.csrf.length).toBeGreaterThan(20);
    }
    // The session cookie is not an API key.
    const v = await login(r.url, DATA_KEY);
    expect((await v.get("/v1/route")).status).toBe(401);
  });

  it("with auth off (no keys), opens without a login; with dashboard: false, is not served", async () => {
    const open = await serve({ auth: false });
    const res = await fetch(`${open.url}/dashboard`, { redirect: "manual" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("auth off");
    const none = await serve({ auth: false, dashboard: false });
    expect((await fetch(`${none.url}/dashboard`, { redirect: "manual" })).status).toBe(404);
  });
});

describe("overview", () => {
  it("counts requests by tier, prices them against the top tier, flags escalations, and filters by caller tag", async () => {
    const r = await serve();
    const tiers = [...queries.keys()];
    expect(tiers.length).toBeGreaterThanOrEqual(3);
    for (const [i, tier] of tiers.entries()) {
      const res = await chat(r, queries.get(tier)!, `feature=${i % 2 === 0 ? "search" : "chat"},team=core`);
      expect(res.status, tier).toBe(200);
    }
    // One answer fails the uncertainty gate and escalates to the next tier (two calls, one escalation).
    fake.enqueue({ type: "content", content: "I'm not sure about that.", usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const order = ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"];
    const low = order.find((t) => queries.has(t) && t !== "FRONTIER")!;
    expect((await chat(r, queries.get(low)!, "feature=search,team=core")).status).toBe(200);

    const v = await login(r.url, DATA_KEY);
    const res = await v.get("/dashboard/api/overview?range=1h");
    expect(res.status).toBe(200);
    const d = (await res.json()) as {
      totals: { requests: number; spendUsd: number; baselineUsd: number; savingsUsd: number; compared: number; escalation: { value: number; count: number; flag: string } };
      series: { tiers: { name: string; counts: number[] }[] };
      latency: { byTier: { name: string; n: number }[]; byStage: { name: string; n: number }[] };
      tags: Record<string, string[]>;
    };
    const n = tiers.length + 1;
    expect(d.totals.requests).toBe(n);
    const perTier = Object.fromEntries(d.series.tiers.map((t) => [t.name, t.counts.reduce((a, b) => a + b, 0)]));
    for (const tier of tiers) expect(perTier[tier], tier).toBe(tier === low ? 2 : 1);
    // Prices from data/tiers/tiers.yaml (USD per 1M tokens), 1000 tokens in and 500 out per call.
    const price: Record<string, [number, number]> = { SIMPLE: [0.15, 0.6], MEDIUM: [2.5, 10], COMPLEX: [3, 15], FRONTIER: [15, 60] };
    const call = (tier: string) => (1000 * price[tier][0] + 500 * price[tier][1]) / 1e6;
    const escalatedTo = order[order.indexOf(low) + 1];
    const expected = tiers.reduce((s, t) => s + call(t), 0) + call(low) + call(escalatedTo);
    expect(d.totals.spendUsd).toBeCloseTo(expected, 9);
    expect(d.totals.baselineUsd).toBeCloseTo(n * call("FRONTIER"), 9);
    expect(d.totals.savingsUsd).toBeCloseTo(d.totals.baselineUsd - expected, 9);
    expect(d.totals.escalation.count).toBe(1);
    expect(d.totals.escalation.value).toBeCloseTo(1 / n, 9);
    expect(d.totals.escalation.flag).toBe(1 / n > 0.2 ? "bad" : 1 / n >= 0.1 ? "watch" : "good");
    expect(d.latency.byTier.reduce((s, t) => s + t.n, 0)).toBe(n);
    expect(d.tags.feature.sort()).toEqual(["chat", "search"]);
    // The same figures as the admin's /v1/stats, which reads the log with SQL.
    const stats = (await (await fetch(`${r.url}/v1/stats`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as {
      log: { cost: { totalUsd: number; baseline: { savingsUsd: number } } };
    };
    expect(d.totals.spendUsd).toBeCloseTo(stats.log.cost.totalUsd, 12);
    expect(d.totals.savingsUsd).toBeCloseTo(stats.log.cost.baseline.savingsUsd, 12);

    const search = (await (await v.get("/dashboard/api/overview?range=1h&tag=feature%3Dsearch")).json()) as { totals: { requests: number } };
    expect(search.totals.requests).toBe(tiers.filter((_, i) => i % 2 === 0).length + 1);
    const bad = await v.get("/dashboard/api/overview?range=1h&tag=nonsense");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^tag: expected key=value/);

    // The page itself renders the same numbers, and its live refresh points at the same filters.
    const html = await (await v.get("/dashboard?range=1h&tag=feature%3Dsearch")).text();
    expect(html).toContain('data-live="/dashboard/api/overview?range=1h&amp;tag=feature%3Dsearch"');
    expect(html).toMatch(/Escalation rate/);
  });

  it("sees new decisions on the next refresh, without a restart", async () => {
    const r = await serve();
    const v = await login(r.url, DATA_KEY);
    const before = (await (await v.get("/dashboard/api/overview?range=1h")).json()) as { totals: { requests: number } };
    expect(before.totals.requests).toBe(0);
    const text = [...queries.values()][0];
    const res = await fetch(`${r.url}/v1/route`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}` },
      body: JSON.stringify({ text }),
    });
    expect(res.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the batched log commits within 50 ms; overview answers are kept for 1 s
    const after = (await (await v.get("/dashboard/api/overview?range=1h")).json()) as { totals: { requests: number } };
    expect(after.totals.requests).toBe(1);
  });
});
