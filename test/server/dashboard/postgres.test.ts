/**
 * The dashboard on a PostgreSQL decision log, as real processes: `triage serve --log-db postgres://…`
 * shows the decisions logged through /v1/route on its overview, decisions and decision pages, and a
 * label and its undo from the dashboard land in the database; `triage dashboard` with the URL in
 * TRIAGE_LOG_DB shows the same log, and refuses a database without a log in one line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { types } from "../../../src/store/postgres/sql.js";
import { CLI } from "../../helpers/cli.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { tempDir, tierExamples, trainTiers } from "../../helpers/tiers.js";
import { login } from "./helpers.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

const KEY = "pg-dashboard-key-1";

interface Running {
  child: ChildProcess;
  base: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts a triage command in its own process group (stopped as a group), and waits for its JSON "listening" line. */
async function start(args: string[], env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, TRIAGE_API_KEYS: KEY, TRIAGE_ADMIN_KEYS: "", XDG_CACHE_HOME: tempDir("triage-cache-"), ...env },
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    void exited.then((code) => reject(new Error(`triage ${args[0]} exited (${code}) before listening: ${stderr}`)));
  });
  return { child, base: `http://127.0.0.1:${port}`, stderr: () => stderr, exited };
}

async function stop(r: Running | undefined): Promise<number | null | undefined> {
  if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return r?.child.exitCode;
  process.kill(-r.child.pid!, "SIGTERM");
  return r.exited;
}

const idsOn = (html: string) => [...html.matchAll(/<tr data-request-id="([^"]+)"/g)].map((m) => m[1]);

describe.skipIf(!bin && !process.env.CI)("dashboard on a PostgreSQL decision log", () => {
  let server: TestPostgres;
  let work: string;
  let model: string;
  let db: string;
  let serve: Running | undefined;
  let standalone: Running | undefined;
  const routed: Array<{ requestId: string; label: string; text: string }> = [];

  async function query<T>(text: string, values: unknown[] = [], url = db): Promise<T[]> {
    const client = new pg.Client({ connectionString: url, types });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    server = await startPostgres();
    work = tempDir("triage-dashboard-pg-");
    model = (await trainTiers(6, { out: join(work, "model") })).dir;
    db = server.createDatabase("dash");
    serve = await start(["serve", "--model", model, "--workers", "1", "--port", "0", "--host", "127.0.0.1", "--log-db", db], {});
    for (const [i, e] of tierExamples("test", 3).slice(0, 8).entries()) {
      const res = await fetch(`${serve.base}/v1/route`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, "x-request-id": `pg-route-${i}`, "x-triage-tags": `feature=${i % 2 ? "chat" : "search"}` },
        body: JSON.stringify({ text: e.text }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { requestId: string; label: string };
      routed.push({ requestId: body.requestId, label: body.label, text: e.text });
    }
    // Batched: committed within the log's 50 ms flush interval.
    for (let i = 0; i < 100 && (await query("SELECT id FROM decisions")).length < routed.length; i++) await new Promise((r) => setTimeout(r, 50));
  }, 240_000);

  afterAll(async () => {
    await stop(serve);
    await stop(standalone);
    server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("triage serve: the overview, the decisions table and a decision's page show what /v1/route logged", async () => {
    const v = await login(serve!.base, KEY);
    const overview = (await (await v.get("/dashboard/api/overview?range=1h")).json()) as { totals: { requests: number }; tags: Record<string, string[]> };
    expect(overview.totals.requests).toBe(routed.length);
    expect(overview.tags.feature.sort()).toEqual(["chat", "search"]);

    const table = await (await v.get("/dashboard/decisions")).text();
    expect(table).not.toContain("No decision log");
    expect(idsOn(table)).toEqual(routed.map((r) => r.requestId).reverse());
    // Search (any case, as on SQLite), a request id prefix, and a caller tag.
    const word = routed[3].text.split(/\s+/).sort((a, b) => b.length - a.length)[0];
    const found = idsOn(await (await v.get(`/dashboard/decisions?q=${encodeURIComponent(word.toUpperCase())}`)).text());
    expect(found).toEqual(
      routed
        .filter((r) => r.text.toLowerCase().includes(word.toLowerCase()))
        .map((r) => r.requestId)
        .reverse(),
    );
    expect(idsOn(await (await v.get("/dashboard/decisions?q=pg-route-5")).text())).toEqual(["pg-route-5"]);
    expect(idsOn(await (await v.get("/dashboard/decisions?tag=feature%3Dchat")).text())).toEqual(["pg-route-7", "pg-route-5", "pg-route-3", "pg-route-1"]);

    const page = await v.get("/dashboard/decisions/pg-route-2");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`data-score="${routed[2].label}"`);
  });

  it("triage serve: a label from the dashboard, and its undo, are written to the PostgreSQL log", async () => {
    const v = await login(serve!.base, KEY);
    const review = await (await v.get("/dashboard/review")).text();
    expect(review).not.toContain("No decision log");
    const res = await v.post("/dashboard/api/feedback", { requestId: "pg-route-4", label: "FRONTIER" });
    expect(res.status).toBe(200);
    const { feedbackId } = (await res.json()) as { feedbackId: number };
    expect(await query("SELECT id, kind, human_label FROM feedback WHERE request_id = $1", ["pg-route-4"])).toEqual([{ id: feedbackId, kind: "label", human_label: "FRONTIER" }]);
    const labelled = idsOn(await (await v.get("/dashboard/decisions?feedback=label")).text());
    expect(labelled).toEqual(["pg-route-4"]);
    const undo = await v.post("/dashboard/api/feedback/undo", { feedbackId });
    expect(undo.status).toBe(200);
    expect(await query("SELECT id FROM feedback WHERE request_id = $1", ["pg-route-4"])).toEqual([]);
  });

  it("triage dashboard: reads the database named in TRIAGE_LOG_DB, and refuses one without a log in one line", async () => {
    const empty = server.createDatabase("nolog");
    const refused = spawn(process.execPath, [...CLI, "dashboard", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TRIAGE_LOG_DB: empty } });
    let err = "";
    refused.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => refused.once("exit", resolve))).toBe(1);
    expect(err.trim()).toBe(`triage: ${empty}: no decision log there (the dashboard reads an existing log; \`triage serve --log-db\` writes one)`);
    expect(await query("SELECT to_regclass('decisions')::text AS t, to_regclass('schema_version')::text AS v", [], empty)).toEqual([{ t: null, v: null }]);

    standalone = await start(["dashboard", "--port", "0", "--model", model], { TRIAGE_LOG_DB: db });
    const v = await login(standalone.base, KEY);
    const overview = (await (await v.get("/dashboard/api/overview?range=1h")).json()) as { totals: { requests: number } };
    expect(overview.totals.requests).toBe(routed.length);
    expect(idsOn(await (await v.get("/dashboard/decisions")).text())).toHaveLength(routed.length);
    const res = await v.post("/dashboard/api/feedback", { requestId: "pg-route-1", label: "SIMPLE" });
    expect(res.status).toBe(200);
    expect(await query("SELECT human_label FROM feedback WHERE request_id = $1", ["pg-route-1"])).toEqual([{ human_label: "SIMPLE" }]);
    expect(await stop(standalone)).toBe(0);
  });
});
