// `triage dashboard` as a real process on a log file: refuses a missing log (creating nothing), serves the
// dashboard with the API's keys, and stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, expect, it } from "vitest";
import { DecisionLog } from "../../src/store/index.js";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/tiers.js";
import { makeDecision } from "../store/make-decision.js";
import { login } from "../server/dashboard/helpers.js";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [...CLI, "dashboard", ...args], {
    env: { ...process.env, TRIAGE_API_KEYS: "", TRIAGE_ADMIN_KEYS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const listening = new Promise<{ port: number; listening: string; auth: boolean }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line) as { port: number; listening: string; auth: boolean }));
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  listening.catch(() => {}); // a run expected to fail never listens
  return { child, exited, listening, stderr: () => stderr };
}

it("refuses a log that does not exist, in one line, and creates nothing", async () => {
  const path = join(tempDir(), "nope.db");
  const run = start(["--log-db", path, "--port", "0"]);
  expect(await run.exited).toBe(1);
  expect(run.stderr().trim()).toBe(`triage: ${path}: no decision log there (triage dashboard reads an existing log; \`triage serve --log-db\` writes one)`);
  expect(existsSync(path)).toBe(false);
});

it("serves the overview of a log file with the API's keys, and stops on SIGTERM", async () => {
  const path = join(tempDir(), "log.db");
  const log = DecisionLog.open(path);
  for (let i = 0; i < 30; i++) log.log(makeDecision({ label: i % 3 === 0 ? "strong" : "cheap", lowConfidence: i % 10 === 0 }), `query ${i}`, { feature: i % 2 ? "a" : "b" });
  log.close();
  const run = start(["--log-db", path, "--port", "0"], { TRIAGE_API_KEYS: "dashboard-data-key" });
  const { port, listening, auth } = await run.listening;
  const base = `http://127.0.0.1:${port}`;
  expect(listening).toBe(`${base}/dashboard`);
  expect(auth).toBe(true);
  expect((await fetch(`${base}/dashboard`, { redirect: "manual" })).status).toBe(303);
  const v = await login(base, "dashboard-data-key");
  const d = (await (await v.get("/dashboard/api/overview?range=1h")).json()) as {
    totals: { requests: number; lowConfidence: { count: number } };
    series: { tiers: { name: string }[] };
  };
  expect(d.totals.requests).toBe(30);
  expect(d.totals.lowConfidence.count).toBe(3);
  expect(d.series.tiers.map((t) => t.name)).toEqual(["cheap", "strong"]);
  run.child.kill("SIGTERM");
  expect(await run.exited).toBe(0);
});
