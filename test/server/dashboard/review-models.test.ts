/**
 * The dashboard's write side, over HTTP: labels from Review go into the log through the same call as
 * `triage feedback` (and undo takes back only this session's own), promote and roll back switch the
 * registry and the serving model for admins only, and eval-routing reports render from a folder.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../../src/model/registry.js";
import { evaluateRouting } from "../../../src/outcomes/evaluate.js";
import { loadOutcomes } from "../../../src/outcomes/load.js";
import { writeRoutingReport } from "../../../src/outcomes/report.js";
import { splitByPrompt } from "../../../src/outcomes/split.js";
import { trainIntoRegistry } from "../../../src/retrain/publish.js";
import { DashboardReader } from "../../../src/store/dashboard-queries.js";
import { loadRoutesConfig } from "../../../src/config/load.js";
import { TIERS_CONFIG, tempDir, tierExamples, useEncoder } from "../../helpers/tiers.js";
import { cachedUse, registryWith } from "../../retrain/helpers.js";
import { startServer, type Running } from "../setup.js";
import { login, type Visitor } from "./helpers.js";

const DATA_KEY = "data-key-0003";
const ADMIN_KEY = "admin-key-0003";
let root: string;
let logPath: string;
let reports: string;
let server: Running;
let dataUser: Visitor;
let admin: Visitor;

beforeAll(async () => {
  root = await registryWith(tierExamples("train", 15));
  await trainIntoRegistry(root, { data: tierExamples("train", 20), config: loadRoutesConfig(TIERS_CONFIG), encoder: await cachedUse(), folds: 3 }); // v0002, current
  reports = tempDir();
  const set = loadOutcomes(join(import.meta.dirname, "..", "..", "..", "data", "outcomes", "example.jsonl"));
  const { train, test } = splitByPrompt(set, 0.5, 1);
  const encoder = await useEncoder();
  writeRoutingReport(reports, "example", "example outcomes", await evaluateRouting(train, test, (t) => encoder.embed(t), { seed: 1 }));
  writeFileSync(join(reports, "broken.json"), JSON.stringify({ summary: {}, report: { models: ["a"] } }));
  logPath = join(tempDir(), "log.db");
  server = await startServer({
    model: root,
    encoder: await cachedUse(),
    log: logPath,
    config: { reload: { watch: false, intervalMs: 1000 }, auth: { tokens: [DATA_KEY], adminTokens: [ADMIN_KEY] } },
    dashboard: { reports },
  });
  for (const e of tierExamples("test", 5)) {
    const res = await fetch(`${server.url}/v1/route`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}` },
      body: JSON.stringify({ text: e.text }),
    });
    expect(res.status).toBe(200);
  }
  await new Promise((r) => setTimeout(r, 200)); // decisions reach the file within the log's 50 ms flush interval
  dataUser = await login(server.url, DATA_KEY);
  admin = await login(server.url, ADMIN_KEY);
});

afterAll(async () => {
  await server?.close();
});

interface PageData {
  items: { requestId: string; text: string; label: string }[];
  keys: [string, string][];
}
const pageData = <T>(html: string) => JSON.parse(/<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(html)![1]) as T;
const feedbackOf = (requestId: string) => {
  const reader = DashboardReader.open(logPath);
  try {
    return reader.decision(requestId)!.feedback;
  } finally {
    reader.close();
  }
};

describe("review", () => {
  it("queues logged queries with the terminal's keys plus out-of-scope, and stores labels as feedback", async () => {
    const html = await (await dataUser.get("/dashboard/review")).text();
    const { items, keys } = pageData<PageData>(html);
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(keys).toEqual([
      ["1", "SIMPLE"],
      ["2", "MEDIUM"],
      ["3", "COMPLEX"],
      ["4", "FRONTIER"],
      ["o", "out-of-scope"],
    ]);
    const [a, b] = items;
    const res = await dataUser.post("/dashboard/api/feedback", { requestId: a.requestId, label: "COMPLEX" });
    expect(res.status).toBe(200);
    const { feedbackId } = (await res.json()) as { feedbackId: number };
    expect(feedbackOf(a.requestId)).toMatchObject([{ id: feedbackId, kind: "label", humanLabel: "COMPLEX", note: "triage dashboard review" }]);
    expect((await dataUser.post("/dashboard/api/feedback", { requestId: b.requestId, label: "out-of-scope" })).status).toBe(200);
    expect(feedbackOf(b.requestId)[0].humanLabel).toBe("out-of-scope");
    // Labelled queries leave the queue.
    const again = pageData<PageData>(await (await dataUser.get("/dashboard/review")).text()).items.map((i) => i.requestId);
    expect(again).not.toContain(a.requestId);
  });

  it("refuses labels the model does not have, unknown ids, missing CSRF tokens and non-JSON bodies", async () => {
    const id = pageData<PageData>(await (await dataUser.get("/dashboard/review")).text()).items[0].requestId;
    const bad = await dataUser.post("/dashboard/api/feedback", { requestId: id, label: "HUGE" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'label: "HUGE" is not one of the model\'s labels (SIMPLE, MEDIUM, COMPLEX, FRONTIER) or out-of-scope',
    );
    const unknown = await dataUser.post("/dashboard/api/feedback", { requestId: "nope", label: "SIMPLE" });
    expect(unknown.status).toBe(404);
    const extra = await dataUser.post("/dashboard/api/feedback", { requestId: id, label: "SIMPLE", kind: "thumbs" });
    expect(extra.status).toBe(400);
    const noCsrf = await dataUser.post("/dashboard/api/feedback", { requestId: id, label: "SIMPLE" }, { "x-triage-csrf": "forged" });
    expect(noCsrf.status).toBe(403);
    const form = await dataUser.post("/dashboard/api/feedback", { requestId: id, label: "SIMPLE" }, { "content-type": "text/plain" });
    expect(form.status).toBe(415);
    expect(feedbackOf(id)).toEqual([]);
  });

  it("undo deletes this session's own label, never another session's or the proxy's rows", async () => {
    const id = pageData<PageData>(await (await dataUser.get("/dashboard/review")).text()).items[0].requestId;
    const mine = ((await (await dataUser.post("/dashboard/api/feedback", { requestId: id, label: "SIMPLE" })).json()) as { feedbackId: number }).feedbackId;
    const theirs = ((await (await admin.post("/dashboard/api/feedback", { requestId: id, label: "MEDIUM" })).json()) as { feedbackId: number }).feedbackId;
    const refused = await dataUser.post("/dashboard/api/feedback/undo", { feedbackId: theirs });
    expect(refused.status).toBe(403);
    expect((await dataUser.post("/dashboard/api/feedback/undo", { feedbackId: mine })).status).toBe(200);
    expect(feedbackOf(id).map((f) => [f.id, f.humanLabel])).toEqual([[theirs, "MEDIUM"]]);
    expect((await dataUser.post("/dashboard/api/feedback/undo", { feedbackId: mine })).status).toBe(403);
  });
});

describe("models", () => {
  it("lists the registry's versions with their metrics, the current one marked", async () => {
    const html = await (await dataUser.get("/dashboard/models")).text();
    expect(html).toMatch(/<tr data-version="v0002" class="current">[\s\S]*?badge-current/);
    expect(html).toContain('data-version="v0001"');
    expect(html).toContain("needs an admin key");
    expect(html).toMatch(/data-action="promote" data-version="v0001"[^>]*disabled/);
    expect(html).toContain("Traffic against the training mix");
  });

  it("rolls back and promotes for admins (the server reloads at once), and refuses data-plane keys", async () => {
    const registry = new ModelRegistry(root);
    const v1 = registry.list().find((v) => v.version === "v0001")!.manifest!.version;
    const v2 = registry.list().find((v) => v.version === "v0002")!.manifest!.version;
    expect(server.server.router.version).toBe(v2);
    const refused = await dataUser.post("/dashboard/api/models/rollback", {});
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("admin_key_required");
    expect(registry.current()).toBe("v0002");

    const back = await admin.post("/dashboard/api/models/rollback", {});
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual({ from: "v0002", to: "v0001", reload: { ok: true, version: v1 } });
    expect(registry.current()).toBe("v0001");
    expect(server.server.router.version).toBe(v1);

    expect((await admin.post("/dashboard/api/models/promote", { version: "v0009" })).status).toBe(400);
    const forward = await admin.post("/dashboard/api/models/promote", { version: "v0002" });
    expect(await forward.json()).toEqual({ from: "v0001", to: "v0002", reload: { ok: true, version: v2 } });
    expect(server.server.router.version).toBe(v2);
  });

  it("refuses to roll back to a damaged version, naming the file; current and the served model stay", async () => {
    const registry = new ModelRegistry(root);
    const head = join(registry.versionDir("v0001"), "head.bin");
    const intact = readFileSync(head);
    writeFileSync(head, new Uint8Array(intact.length));
    try {
      const refused = await admin.post("/dashboard/api/models/rollback", {});
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
        `${head}: checksum does not match the manifest (corrupted or replaced); retrain the model or restore the artifact; not switching to v0001`,
      );
      expect(registry.current()).toBe("v0002");
      expect(server.server.router.version).toBe(registry.list().find((v) => v.version === "v0002")!.manifest!.version);
    } finally {
      writeFileSync(head, intact);
    }
  });
});

describe("routing evaluation", () => {
  it("lists the reports of the folder, renders one, and names the field a broken one lacks", async () => {
    const list = await (await dataUser.get("/dashboard/routing")).text();
    expect(list).toContain('href="/dashboard/routing/example"');
    expect(list).toMatch(/broken\.json: not a triage eval-routing report: report\.\w+/);
    const page = await (await dataUser.get("/dashboard/routing/example")).text();
    expect(page).toContain("<svg");
    expect(page).toContain("outcome router (");
    expect(page).toContain("Fixed policies");
    // eval-routing's bootstrap interval of the saving, beside it.
    expect(page).toMatch(/<span data-interval>95 % interval -?\d+\.\d% to \d+\.\d%<\/span> over 1000 draws of the test prompts/);
    const broken = await dataUser.get("/dashboard/routing/broken");
    expect(broken.status).toBe(400);
    expect(await broken.text()).toMatch(/broken\.json: not a triage eval-routing report/);

    const { readFileSync } = await import("node:fs");
    const file = JSON.parse(readFileSync(join(reports, "example.json"), "utf8")) as unknown;
    const rendered = await dataUser.post("/dashboard/api/routing/render", { name: "uploaded", file });
    expect(rendered.status, await rendered.clone().text()).toBe(200);
    expect(((await rendered.json()) as { html: string }).html).toContain("<svg");
  });
});
