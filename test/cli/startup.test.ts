import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

const run = promisify(execFile);
const TRACE_HOOK = join(import.meta.dirname, "..", "helpers", "module-trace.mjs");
const work = tempDir("triage-startup-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The modules `triage <args>` loaded (their URLs), and its stdout. */
async function loaded(name: string, args: string[]): Promise<{ urls: string[]; stdout: string }> {
  const trace = join(work, `${name}.txt`);
  const { stdout } = await run(process.execPath, ["--import", TRACE_HOOK, ...CLI, ...args], { env: { ...process.env, TRIAGE_MODULE_TRACE: trace }, timeout: 60_000 });
  return { urls: readFileSync(trace, "utf8").split("\n").filter(Boolean), stdout };
}

describe("start-up loads only the command that runs", () => {
  it("route loads neither the server, the dashboard nor training, nor their libraries", async () => {
    const { urls, stdout } = await loaded("route", ["route", "--help"]);
    expect(stdout).toContain("Usage: triage route");
    expect(urls.some((u) => u.endsWith("/src/cli/commands/route.ts"))).toBe(true);
    const needless = urls.filter((u) => /\/src\/(server|train|retrain|eval)\/|\/src\/cli\/commands\/(?!route\.ts)|\/node_modules\/(hono|prom-client|@hono)\//.test(u));
    expect(needless).toEqual([]);
  });

  it("--help still lists every command", async () => {
    const { stdout } = await loaded("help", ["--help"]);
    for (const command of ["train", "route", "serve", "retrain", "dashboard", "review", "eval-routing"]) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
  });
});
