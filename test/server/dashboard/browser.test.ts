/**
 * The dashboard in a real browser (headless Chromium through playwright-core) against a real server with
 * real traffic: log in, see the overview, open a decision's explanation, label three queries in Review and
 * find them in the log, roll back a model as admin after being refused as a data-plane user; and, on a
 * server whose log is in PostgreSQL, the overview, the decisions table and a Review label stored there.
 * Screenshots go to a temp folder, or to TRIAGE_SCREENSHOTS (the README's come from `docs/`).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRoutesConfig } from "../../../src/config/load.js";
import { ModelRegistry } from "../../../src/model/registry.js";
import { evaluateRouting } from "../../../src/outcomes/evaluate.js";
import { loadOutcomes } from "../../../src/outcomes/load.js";
import { writeRoutingReport } from "../../../src/outcomes/report.js";
import { splitByPrompt } from "../../../src/outcomes/split.js";
import { trainIntoRegistry } from "../../../src/retrain/publish.js";
import { DashboardReader } from "../../../src/store/dashboard-queries.js";
import { findChromium, launchChromium, SKIP_REASON } from "../../helpers/chromium.js";
import { findPostgres, startPostgres } from "../../helpers/postgres.js";
import { generateLog } from "../../helpers/dashboard-log.js";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";
import { TIERS_CONFIG, tempDir, tierExamples, useEncoder } from "../../helpers/tiers.js";
import { cachedUse, registryWith } from "../../retrain/helpers.js";
import { startServer, type Running } from "../setup.js";

const DATA_KEY = "data-key-browser-1";
const ADMIN_KEY = "admin-key-browser-1";
const chromiumPath = findChromium();
if (!chromiumPath && !process.env.CI) console.log(SKIP_REASON);

let root: string;
let logPath: string;
let reports: string;
let fake: FakeOpenAI;
let server: Running;
let browser: BrowserContext;
let page: Page;
const problems: string[] = [];
const shots = process.env.TRIAGE_SCREENSHOTS ?? tempDir("triage-screenshots-");

describe.skipIf(!chromiumPath && !process.env.CI)("dashboard in Chromium", () => {
  beforeAll(async () => {
    if (!chromiumPath) throw new Error("browser tests: no Chromium found and CI is set, so they cannot be skipped: apt-get install -y chromium (or set TRIAGE_CHROMIUM)");
    mkdirSync(shots, { recursive: true });
    root = await registryWith(tierExamples("train", 15));
    await trainIntoRegistry(root, { data: tierExamples("train", 20), config: loadRoutesConfig(TIERS_CONFIG), encoder: await cachedUse(), folds: 3 });
    fake = await startFakeOpenAI({
      handler: (_req, i) => ({
        type: "content",
        content: "Here is the answer you asked for.",
        usage: { prompt_tokens: 200 + 37 * (i % 9), completion_tokens: 150 + 53 * (i % 7) },
      }),
    });
    logPath = join(tempDir(), "log.db");
    // A week of history (ending two hours ago) under the live traffic below, so the charts have a shape.
    const versions = new ModelRegistry(root).list().map((v) => v.manifest!.version);
    const now = Date.now();
    generateLog(logPath, { n: 8000, since: now - 7 * 86_400_000, until: now - 2 * 3_600_000, texts: tierExamples("train", 1000), versions, rhythm: true, seed: 3 });
    reports = tempDir();
    const { train, test } = splitByPrompt(loadOutcomes(join(import.meta.dirname, "..", "..", "..", "data", "outcomes", "example.jsonl")), 0.5, 1);
    const encoder = await useEncoder();
    writeRoutingReport(reports, "example-outcomes", "example outcomes", await evaluateRouting(train, test, (t) => encoder.embed(t), { seed: 1 }));
    server = await startServer({
      model: root,
      encoder: await cachedUse(),
      log: logPath,
      dashboard: { reports },
      config: { providers: [{ name: "fake", baseURL: fake.baseURL }], reload: { watch: false, intervalMs: 1000 }, auth: { tokens: [DATA_KEY], adminTokens: [ADMIN_KEY] } },
    });
    const features = ["search", "chat", "support"];
    for (const [i, e] of tierExamples("test", 12).entries()) {
      if (i % 6 === 5) fake.enqueue({ type: "content", content: "I'm not sure.", usage: { prompt_tokens: 200, completion_tokens: 4 } });
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}`, "x-triage-tags": `feature=${features[i % 3]},team=core` },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: e.text }] }),
      });
      expect(res.status).toBe(200);
    }
    browser = await launchChromium(chromiumPath);
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().includes("status of 40")) problems.push(`console: ${m.text()}`); // 401/403 answers are tested, not problems
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  const logIn = async (key: string, base = server.url) => {
    await page.goto(`${base}/dashboard`);
    await page.waitForURL(/\/dashboard\/login/);
    await page.fill("#key", key);
    await Promise.all([page.waitForURL(/\/dashboard$/), page.click("button[type=submit]")]);
  };

  it("logs in with a data-plane key and shows the overview with its charts", async () => {
    await logIn(DATA_KEY);
    await page.goto(`${server.url}/dashboard?range=1h`); // the live traffic only
    await expect.poll(() => page.locator("#chart-requests canvas").count()).toBeGreaterThan(0);
    expect(await page.locator('[data-kpi="requests"] [data-value]').textContent()).toBe(String(tierExamples("test", 12).length));
    expect(await page.locator(".role").textContent()).toBe("data plane");
    expect(await page.locator("#chart-rates canvas").count()).toBeGreaterThan(0);
    expect(await page.locator("#chart-spend canvas").count()).toBeGreaterThan(0);
    expect(await page.locator('[data-kpi="escalation"]').getAttribute("class")).toMatch(/flag-(watch|bad|good)/);
    expect(await page.locator('table[data-latency="tier"] tbody tr').count()).toBeGreaterThan(0);
    // The caller-tag filter narrows the numbers.
    await Promise.all([page.waitForURL(/tag=feature%3Dsearch/), page.selectOption('select[name="tag"]', "feature=search")]);
    expect(await page.locator('[data-kpi="requests"] [data-value]').textContent()).toBe(String(tierExamples("test", 12).filter((_, i) => i % 3 === 0).length));
    await page.goto(`${server.url}/dashboard?range=7d`);
    await expect.poll(() => page.locator("#chart-spend canvas").count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, "dashboard-overview.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("opens a decision's explanation from the decisions table", async () => {
    await page.goto(`${server.url}/dashboard/decisions`);
    await page.screenshot({ path: join(shots, "dashboard-decisions.png"), fullPage: true });
    const escalated = page.locator("tr[data-request-id]", { has: page.locator(".badge", { hasText: "escalated" }) }).first();
    const requestId = await escalated.getAttribute("data-request-id");
    await Promise.all([page.waitForURL(/\/dashboard\/decisions\/.+/), escalated.locator("td.text a").click()]);
    expect(page.url()).toContain(encodeURIComponent(requestId!));
    expect(await page.locator("[data-verdict]").textContent()).toMatch(/^Routed to/);
    expect(await page.locator("g[data-score]").count()).toBe(4);
    expect(await page.locator("table[data-nearest] tbody tr").count()).toBe(8);
    expect(await page.getByText("uncertain").count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, "dashboard-decision.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("labels three queries in Review with the keyboard, undoes one, and finds the labels in the log", async () => {
    await page.goto(`${server.url}/dashboard/review`);
    const items = JSON.parse((await page.locator("#page-data").textContent())!) as { items: { requestId: string }[] };
    expect(items.items.length).toBeGreaterThanOrEqual(4);
    const ids = items.items.slice(0, 4).map((i) => i.requestId);
    const position = page.locator("[data-position]");
    await page.keyboard.press("2"); // MEDIUM
    await expect.poll(() => position.textContent()).toMatch(/^2 of/);
    await page.keyboard.press("4"); // FRONTIER
    await expect.poll(() => position.textContent()).toMatch(/^3 of/);
    await page.keyboard.press("1"); // SIMPLE, then taken back
    await expect.poll(() => position.textContent()).toMatch(/^4 of/);
    await page.keyboard.press("u");
    await expect.poll(() => position.textContent()).toMatch(/^3 of/);
    await page.keyboard.press("o"); // out of scope
    await expect.poll(() => position.textContent()).toMatch(/^4 of/);
    await expect.poll(() => page.locator("[data-labelled] li").count()).toBe(3);
    await page.screenshot({ path: join(shots, "dashboard-review.png"), fullPage: true });

    await page.goto(`${server.url}/dashboard/decisions?feedback=label`);
    const rows = page.locator("tr[data-request-id]");
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute("data-request-id")} ${tr.querySelector(".badge-info")?.textContent}`));
    expect(shown.sort()).toEqual([`${ids[0]} label: MEDIUM`, `${ids[1]} label: FRONTIER`, `${ids[2]} label: out-of-scope`].sort());
    const reader = DashboardReader.open(logPath);
    try {
      expect(
        ids.slice(0, 3).map((id) =>
          reader
            .decision(id)!
            .feedback.filter((f) => f.kind === "label")
            .map((f) => f.humanLabel),
        ),
      ).toEqual([["MEDIUM"], ["FRONTIER"], ["out-of-scope"]]);
    } finally {
      reader.close();
    }
    expect(problems).toEqual([]);
  });

  it("refuses a rollback to a data-plane user, then rolls back as admin and the server serves the previous version", async () => {
    const registry = new ModelRegistry(root);
    await page.goto(`${server.url}/dashboard/models`);
    const rollback = page.locator('button[data-action="rollback"]');
    expect(await rollback.isDisabled()).toBe(true);
    // Even past the disabled button, the server says no.
    const csrf = await page.locator('meta[name="triage-csrf"]').getAttribute("content");
    const status = await page.evaluate(async (csrf) => {
      const res = await fetch("/dashboard/api/models/rollback", { method: "POST", headers: { "content-type": "application/json", "x-triage-csrf": csrf }, body: "{}" });
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    }, csrf!);
    expect(status).toEqual([403, "admin_key_required"]);
    expect(registry.current()).toBe("v0002");

    await Promise.all([page.waitForURL(/\/dashboard\/login/), page.click("header .who button")]);
    await logIn(ADMIN_KEY);
    await page.goto(`${server.url}/dashboard/models`);
    expect(await page.locator(".role").textContent()).toBe("admin");
    page.once("dialog", (d) => void d.accept());
    await Promise.all([page.waitForEvent("load"), page.click('button[data-action="rollback"]')]);
    await expect.poll(() => page.locator('tr[data-version="v0001"] .badge-current').count()).toBe(1);
    expect(registry.current()).toBe("v0001");
    expect(server.server.router.version).toBe(registry.list().find((v) => v.version === "v0001")!.manifest!.version);
    await page.screenshot({ path: join(shots, "dashboard-models.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("lists eval-routing reports, draws one, and draws a report file opened in the browser", async () => {
    await page.goto(`${server.url}/dashboard/routing`);
    await Promise.all([page.waitForURL(/\/dashboard\/routing\/example-outcomes$/), page.click('a[href="/dashboard/routing/example-outcomes"]')]);
    expect(await page.locator(".report-svg svg polyline").count()).toBeGreaterThan(0);
    expect(await page.locator("table[data-curves] tbody tr").count()).toBe(4);
    await page.screenshot({ path: join(shots, "dashboard-routing.png"), fullPage: true });
    await page.goto(`${server.url}/dashboard/routing`);
    await page.setInputFiles("[data-open-report]", join(reports, "example-outcomes.json"));
    await expect.poll(() => page.locator("[data-opened] table[data-curves]").count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it.skipIf(!findPostgres() && !process.env.CI)("on a PostgreSQL log: shows the overview and the decisions, and stores a Review label in the database", async () => {
    const pg = await startPostgres();
    const onPg = await startServer({
      model: root,
      encoder: await cachedUse(),
      log: pg.url,
      config: { reload: { watch: false, intervalMs: 1000 }, auth: { tokens: [DATA_KEY] } },
    });
    try {
      const texts = tierExamples("test", 2).map((e) => e.text);
      for (const text of texts) {
        const res = await fetch(`${onPg.url}/v1/route`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}`, "x-triage-tags": "feature=search" },
          body: JSON.stringify({ text }),
        });
        expect(res.status).toBe(200);
      }
      const { default: Pg } = await import("pg");
      const count = async (sql: string) => {
        const client = new Pg.Client({ connectionString: pg.url });
        await client.connect();
        try {
          return (await client.query(sql)).rows;
        } finally {
          await client.end();
        }
      };
      await expect.poll(async () => (await count("SELECT id FROM decisions")).length).toBe(texts.length); // batched: committed within 50 ms
      await logIn(DATA_KEY, onPg.url);
      await page.goto(`${onPg.url}/dashboard?range=1h`);
      await expect.poll(() => page.locator("#chart-requests canvas").count()).toBeGreaterThan(0);
      expect(await page.locator('[data-kpi="requests"] [data-value]').textContent()).toBe(String(texts.length));
      await page.goto(`${onPg.url}/dashboard/decisions`);
      expect(await page.locator("tr[data-request-id]").count()).toBe(texts.length);

      await page.goto(`${onPg.url}/dashboard/review`);
      const items = JSON.parse((await page.locator("#page-data").textContent())!) as { items: { requestId: string }[] };
      await page.keyboard.press("3"); // COMPLEX
      await expect.poll(() => page.locator("[data-labelled] li").count()).toBe(1);
      expect(await count("SELECT request_id, human_label FROM feedback WHERE kind = 'label'")).toEqual([{ request_id: items.items[0].requestId, human_label: "COMPLEX" }]);
      expect(problems).toEqual([]);
    } finally {
      await onPg.close();
      pg.stop();
    }
  });
});
