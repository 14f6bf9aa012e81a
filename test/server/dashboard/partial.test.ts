/**
 * The overview of a log the dashboard has not read yet, over real HTTP: the first answer comes from the
 * newest decisions and says it is partial, the live refresh's JSON fills in while the build reads older
 * decisions in the background, and the complete numbers match the log's own SQL statistics, including
 * feedback and decisions written while the build ran; on a SQLite file and on a PostgreSQL database.
 */
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PriceTable } from "../../../src/config/price.js";
import type { DashboardContext } from "../../../src/server/dashboard/context.js";
import { createDashboard, type Dashboard } from "../../../src/server/dashboard/index.js";
import { generateLog } from "../../helpers/dashboard-log.js";
import { makeDecision } from "../../store/make-decision.js";
import { testStores, type TestLog } from "./stores.js";

const ROWS = 20_000;
const PRICES: PriceTable = { SIMPLE: { input: 0.15, output: 0.6 }, MEDIUM: { input: 2.5, output: 10 }, COMPLEX: { input: 3, output: 15 }, FRONTIER: { input: 15, output: 60 } };

interface Overview {
  covered: { rows: number; oldest: number | null; loading: { read: number; of: number } | null };
  totals: { requests: number; spendUsd: number; pricedRequests: number; escalation: { count: number } };
}

const stores = testStores();
afterAll(async () => {
  for (const s of stores) await s.stop();
});

describe.each(stores)("on $kind", (store) => {
  let t: TestLog;
  let dashboard: Dashboard;
  let server: ServerType;
  let base: string;
  const errors: Error[] = [];

  beforeAll(async () => {
    if (store.skip) return;
    t = await store.filled((path) => generateLog(path, { n: ROWS, seed: 21, since: Date.now() - 3 * 86_400_000, until: Date.now() - 60_000 }));
    const ctx: DashboardContext = {
      logPath: t.location,
      openReader: t.reader,
      feedbackLog: () => {
        throw new Error("not used");
      },
      model: null,
      prices: () => PRICES,
      auth: { tokens: [], adminTokens: [] }, // auth off: no login
      onError: (e) => void errors.push(e),
    };
    // Small steps and no wait: the first answer comes after the first chunk, whatever the machine's speed.
    dashboard = createDashboard(ctx, { firstAnswerMs: 0, chunk: 500 });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: dashboard.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    await dashboard?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await t?.log.close();
  });

  const overview = async (): Promise<Overview> => {
    const res = await fetch(`${base}/dashboard/api/overview?range=7d`);
    expect(res.status).toBe(200);
    return (await res.json()) as Overview;
  };

  it.skipIf(store.skip)(
    "answers a fresh log's first overview from the newest decisions, marked partial, then fills in to the log's own figures",
    async () => {
      const page = await fetch(`${base}/dashboard?range=7d`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain("data-partial");
      expect(html).toMatch(/Partial: still reading older decisions \([\d,]+ of about 20,000 read, newest first, back to \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
      const requests = Number(/data-kpi="requests"><div class="kpi-label">Requests<\/div><div class="kpi-value" data-value>([\d,]+)/.exec(html)?.[1].replace(/,/g, ""));
      expect(requests).toBeGreaterThan(0);
      expect(requests).toBeLessThan(ROWS);

      const first = await overview();
      expect(first.covered.loading).not.toBeNull();
      expect(first.covered.loading!.of).toBe(ROWS);
      expect(first.totals.requests).toBeLessThan(ROWS);

      // While older decisions are still being read: feedback for the oldest one (not read yet) and a new decision.
      const [{ id: oldest }] = await t.sql<{ id: string }>("SELECT request_id AS id FROM decisions ORDER BY id LIMIT 1");
      const { log } = t;
      await log.feedback(oldest, { kind: "escalated", finalModel: "o1", note: "late escalation" });
      await log.feedback(oldest, { kind: "outcome", finalModel: "o1", tokensIn: 1000, tokensOut: 1000 });
      await log.log(makeDecision({ label: "SIMPLE" }), "a new query while the dashboard reads");
      await log.flush();

      let last = first;
      const seen = [first.totals.requests];
      for (let i = 0; i < 600 && (last.covered.loading !== null || last.totals.requests < ROWS + 1); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        last = await overview();
        seen.push(last.totals.requests);
      }
      expect(last.covered.loading).toBeNull();
      // Filled in step by step, never going back.
      expect(new Set(seen).size).toBeGreaterThan(2);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));

      const stats = await log.stats({ since: Date.now() - 7 * 86_400_000, prices: PRICES });
      expect(last.totals.requests).toBe(ROWS + 1);
      expect(stats.count).toBe(ROWS + 1);
      expect(last.totals.escalation.count).toBe(Math.round((stats.escalationRate ?? 0) * stats.count));
      expect(last.totals.pricedRequests).toBe(stats.cost.requests);
      expect(last.totals.spendUsd).toBeCloseTo(stats.cost.totalUsd, 6);

      const done = await (await fetch(`${base}/dashboard?range=7d`)).text();
      expect(done).not.toContain("data-partial");
      expect(errors).toEqual([]);
    },
    120_000,
  );
});
