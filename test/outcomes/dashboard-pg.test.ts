/**
 * The dashboard of `triage serve --registry postgres://…` serving outcome models: two versions trained
 * into a shared PostgreSQL registry (`triage train --outcomes --registry postgres://…`), one real `serve`
 * process on loopback, logging its decisions to the same database. Its Models page lists both with their
 * dial, promote and roll back through it switch what /v1/route answers, and each decision is logged with
 * the dial it was made at. Skips with one line without PostgreSQL (fails in CI).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { OutcomeChoice } from "../../src/router/types.js";
import { openDecisionLog } from "../../src/store/index.js";
import { CLI } from "../helpers/cli.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { tempDir } from "../helpers/tiers.js";
import { login } from "../server/dashboard/helpers.js";

const available = !!findPostgres() || !!process.env.CI;
if (!available) console.log(PG_SKIP_REASON);

const ADMIN_KEY = "outcome-pg-admin-key";
const DATA_KEY = "outcome-pg-data-key";
const HARD = "Prove that there are infinitely many prime numbers.";
const run = promisify(execFile);

describe.skipIf(!available)("the dashboard of a server on a shared registry of outcome models", () => {
  let pg: TestPostgres;
  let work: string;
  let url: string;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let base: string;
  const env = () => ({ ...process.env, TRIAGE_CACHE: join(work, "cache.sqlite"), TRIAGE_API_KEYS: DATA_KEY, TRIAGE_ADMIN_KEYS: ADMIN_KEY });

  beforeAll(async () => {
    pg = await startPostgres();
    work = tempDir();
    url = pg.createDatabase("outcomes");
    // v0001: the strongest model's quality; v0002 (current): a cost ceiling of 0, always the cheapest model.
    for (const dial of [
      ["--quality", "1"],
      ["--max-cost", "0"],
    ])
      await run(process.execPath, [...CLI, "train", "--outcomes", "data/outcomes/example.jsonl", "--registry", url, "--encoder", "use", ...dial], { env: env() });
    // Its own process group, so that stopping it stops whatever it started.
    child = spawn(
      process.execPath,
      [...CLI, "serve", "--registry", url, "--registry-cache", join(work, "replica"), "--log-db", url, "--port", "0", "--host", "127.0.0.1", "--workers", "1"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: env(),
        detached: true,
      },
    );
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    exited = new Promise((resolve) => child!.once("exit", resolve));
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
      void exited.then((code) => reject(new Error(`triage serve exited (${String(code)}) before listening: ${stderr}`)));
    });
    base = `http://127.0.0.1:${port}`;
  }, 240_000);

  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
    await exited;
    pg?.stop();
  });

  const decide = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/v1/route`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DATA_KEY}`, ...headers },
      body: JSON.stringify({ text: HARD }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { requestId: string; model: string; outcome: OutcomeChoice };
  };
  const route = async () => (await decide()).model;

  it("lists both versions with their dial, and promote and roll back switch what /v1/route answers", async () => {
    const admin = await login(base, ADMIN_KEY);
    const page = await (await admin.get("/dashboard/models")).text();
    expect(page).toContain(`data-kind="outcomes"`);
    expect(page).toMatch(/<tr data-version="v0002" class="current">[\s\S]*?cost ceiling 0/);
    expect(page).toMatch(/<tr data-version="v0001"[\s\S]*?quality floor 1/);
    expect(await route()).toBe("small");

    const back = await admin.post("/dashboard/api/models/rollback", {});
    expect(back.status, await back.clone().text()).toBe(200);
    expect(await back.json()).toMatchObject({ from: "v0002", to: "v0001", reload: { ok: true } });
    expect(await route()).not.toBe("small");

    const forward = await admin.post("/dashboard/api/models/promote", { version: "v0002" });
    expect(await forward.json()).toMatchObject({ from: "v0001", to: "v0002", reload: { ok: true } });
    expect(await route()).toBe("small");
  }, 60_000);

  it("logs each decision with the dial it was made at, and the decision's page shows it", async () => {
    const asked = await decide({ "x-triage-quality": "0.5" });
    const plain = await decide();
    expect(asked.outcome.dial).toMatchObject({ quality: 0.5, from: "request" });
    expect(plain.outcome.dial).toMatchObject({ from: "default" });
    const log = await openDecisionLog(url, { readonly: true });
    try {
      await vi.waitFor(async () => expect(await log.count({ requestId: plain.requestId })).toBe(1), { timeout: 10_000, interval: 50 });
      expect((await log.query({ requestId: asked.requestId }))[0].dial).toEqual(asked.outcome.dial);
      expect((await log.query({ requestId: plain.requestId }))[0].dial).toEqual(plain.outcome.dial);
    } finally {
      await log.close();
    }
    const user = await login(base, DATA_KEY);
    const page = await (await user.get(`/dashboard/decisions/${asked.requestId}`)).text();
    expect(page).toContain("<dd data-dial>quality floor 0.5, set by the request");
    expect(page).toContain("<dd data-why>");
    expect(page).not.toContain("dial setting is not logged");
  }, 60_000);
});
