/**
 * The decisions table and a decision's explanation, on a served registry model with real traffic:
 * search, filters and paging over the log, and the explanation's scores, margin against the deciding
 * version's threshold, nearest training examples, escalation and final model with tokens; with the
 * server's log in a SQLite file and in a PostgreSQL database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Router } from "../../../src/router/router.js";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai.js";
import { tierExamples, useEncoder } from "../../helpers/tiers.js";
import { registryWith } from "../../retrain/helpers.js";
import { queriesPerTier, startServer, type Running } from "../setup.js";
import { login, type Visitor } from "./helpers.js";
import { testStores } from "./stores.js";

const KEY = "data-key-0002";
let root: string;
let router: Router;
let fake: FakeOpenAI;
const stores = testStores();

beforeAll(async () => {
  root = await registryWith(tierExamples("train", 20));
  router = await Router.load(root, { encoder: await useEncoder() });
  fake = await startFakeOpenAI({ handler: () => ({ type: "content", content: "A full answer.", usage: { prompt_tokens: 120, completion_tokens: 80 } }) });
});

afterAll(async () => {
  await fake?.close();
  await router?.close();
  for (const s of stores) await s.stop();
});

describe.each(stores)("on $kind", (store) => {
  let server: Running;
  let visitor: Visitor;
  const routed: Array<{ requestId: string; text: string; label: string }> = [];
  let escalatedId: string;

  beforeAll(async () => {
    if (store.skip) return;
    server = await startServer({
      model: router,
      log: await store.location(),
      config: { providers: [{ name: "fake", baseURL: fake.baseURL }], reload: { watch: false, intervalMs: 1000 }, auth: { tokens: [KEY] } },
    });
    // 60 routed decisions (more than a page), then one chat completion whose first answer fails a gate.
    const texts = tierExamples("test", 40)
      .map((e) => e.text)
      .slice(0, 60);
    for (const [i, text] of texts.entries()) {
      const res = await fetch(`${server.url}/v1/route`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, "x-triage-tags": `feature=${i % 3 === 0 ? "search" : "chat"}` },
        body: JSON.stringify({ text }),
      });
      const body = (await res.json()) as { requestId: string; label: string };
      routed.push({ requestId: body.requestId, text, label: body.label });
    }
    const medium = (await queriesPerTier(router)).get("MEDIUM")!;
    fake.enqueue({ type: "content", content: "I don't know.", usage: { prompt_tokens: 100, completion_tokens: 5 } });
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: medium }] }),
    });
    expect(res.status).toBe(200);
    escalatedId = res.headers.get("x-triage-request-id")!;
    // Batched: the decisions reach the log within its 50 ms flush interval.
    await new Promise((r) => setTimeout(r, 200));
    visitor = await login(server.url, KEY);
  });

  afterAll(async () => {
    await server?.close();
  });

  const idsOn = (html: string) => [...html.matchAll(/<tr data-request-id="([^"]+)"/g)].map((m) => m[1]);

  describe.skipIf(store.skip)("decisions table", () => {
    it("pages newest first by cursor, 50 a page, through every decision", async () => {
      const first = await (await visitor.get("/dashboard/decisions")).text();
      const page1 = idsOn(first);
      expect(page1).toHaveLength(50);
      expect(page1[0]).toBe(escalatedId);
      const older = /<a href="([^"]+)" rel="next">Older/.exec(first)?.[1].replace(/&amp;/g, "&");
      expect(older).toBeDefined();
      const page2 = idsOn(await (await visitor.get(older!)).text());
      expect([...page1, ...page2]).toEqual([escalatedId, ...routed.map((r) => r.requestId).reverse()]);
    });

    it("searches text and request ids, and filters by label, confidence, feedback and caller tag", async () => {
      const target = routed[17];
      const word = target.text.split(/\s+/).sort((a, b) => b.length - a.length)[0];
      const bySearch = idsOn(await (await visitor.get(`/dashboard/decisions?q=${encodeURIComponent(word)}`)).text());
      expect(bySearch).toContain(target.requestId);
      expect(bySearch).toEqual(
        routed
          .filter((r) => r.text.toLowerCase().includes(word.toLowerCase()))
          .map((r) => r.requestId)
          .reverse(),
      );
      expect(idsOn(await (await visitor.get(`/dashboard/decisions?q=${target.requestId.slice(0, 13)}`)).text())).toEqual([target.requestId]);

      const label = target.label;
      const byLabel = idsOn(await (await visitor.get(`/dashboard/decisions?label=${label}`)).text());
      const logged = [...routed, { requestId: escalatedId, label: "MEDIUM" }];
      expect(byLabel).toEqual(
        logged
          .filter((r) => r.label === label)
          .map((r) => r.requestId)
          .reverse()
          .slice(0, 50),
      );
      const low = idsOn(await (await visitor.get("/dashboard/decisions?confidence=low")).text());
      const high = idsOn(await (await visitor.get("/dashboard/decisions?confidence=high")).text());
      expect(low.length + high.length).toBeGreaterThan(0);
      expect(low.filter((id) => high.includes(id))).toEqual([]);
      expect(idsOn(await (await visitor.get("/dashboard/decisions?feedback=escalated")).text())).toEqual([escalatedId]);
      const tagged = idsOn(await (await visitor.get("/dashboard/decisions?tag=feature%3Dsearch")).text());
      expect(tagged).toEqual(
        routed
          .filter((_, i) => i % 3 === 0)
          .map((r) => r.requestId)
          .reverse(),
      );

      const bad = await (await visitor.get("/dashboard/decisions?stage=warp&tag=nonsense")).text();
      expect(bad).toContain("stage: expected one of rule, cache, static, full; got &quot;warp&quot;");
      expect(bad).toContain("tag: expected key=value");
    });
  });

  describe.skipIf(store.skip)("a decision's explanation", () => {
    it("shows scores, the margin against the deciding version's threshold, nearest examples, the escalation and the final model", async () => {
      const res = await visitor.get(`/dashboard/decisions/${escalatedId}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      for (const label of ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]) expect(html).toContain(`data-score="${label}"`);
      expect(html).toMatch(/threshold \d\.\d{3}/);
      expect(html).toContain("v0001");
      expect(html).toMatch(/MEDIUM -&gt; COMPLEX: uncertain/); // the quality gate's note
      expect(html).toContain("Routed to"); // the verdict, then the model that answered after the escalation
      expect(html).toMatch(/→ claude-3-5-sonnet-latest/);
      const nearestRows = [...html.matchAll(/<tr><td class="num">(0\.\d{3})/g)];
      expect(nearestRows.length).toBe(8);

      const api = (await (await visitor.get(`/dashboard/api/decisions/${escalatedId}`)).json()) as {
        decision: { requestId: string; feedback: { kind: string; tokensIn: number | null }[] };
        version: string;
        nearest: { exact: boolean; version: string; examples: { similarity: number; label: string; text: string }[] };
      };
      expect(api.version).toBe("v0001");
      expect(api.nearest.exact).toBe(true);
      const sims = api.nearest.examples.map((e) => e.similarity);
      expect(sims).toEqual([...sims].sort((a, b) => b - a));
      expect(tierExamples("train", 20).map((e) => e.text)).toContain(api.nearest.examples[0].text);
      expect(api.decision.feedback.filter((f) => f.tokensIn !== null)).toHaveLength(2);
    });

    it("says so for an unknown request id", async () => {
      const res = await visitor.get("/dashboard/decisions/no-such-request");
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("No decision with request id &quot;no-such-request&quot;");
    });
  });

  describe.skipIf(store.skip)("a log that keeps hashes, not text", () => {
    it("shows each query's hash and length, finds it by hash prefix, and says why there are no neighbours", async () => {
      const hashed = await startServer({
        model: router,
        log: await store.location(),
        config: { reload: { watch: false, intervalMs: 1000 }, auth: { tokens: [KEY] }, log: { textMode: "hash" } },
      });
      try {
        const res = await fetch(`${hashed.url}/v1/route`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ text: "Write a haiku about the sea." }),
        });
        const { requestId } = (await res.json()) as { requestId: string };
        const v = await login(hashed.url, KEY);
        const { createHash } = await import("node:crypto");
        const hash = createHash("sha256").update("Write a haiku about the sea.").digest("hex");
        // The batched log commits within 50 ms; the dashboard reads committed rows only.
        let table = "";
        for (let i = 0; i < 50 && idsOn(table).length === 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
          table = await (await v.get(`/dashboard/decisions?q=${hash.slice(0, 10)}`)).text();
        }
        expect(idsOn(table)).toEqual([requestId]);
        expect(table).toContain(`sha256 ${hash.slice(0, 16)}… (28 chars)`);
        expect(table).not.toContain("haiku");
        const page = await (await v.get(`/dashboard/decisions/${requestId}`)).text();
        expect(page).toContain("the log keeps no query text (text mode hash or redact)");
      } finally {
        await hashed.close();
      }
    });
  });
});
