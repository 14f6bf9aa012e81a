// `triage serve --workers`: the value is checked before anything starts, and --help names the default.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/tiers.js";

const run = promisify(execFile);
const work = tempDir("triage-serve-workers-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function triage(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: work, timeout: 60_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

it.each(["0", "-2", "1.5", "many"])("serve --workers %s is one line naming the option and the value, then the usage", async (value) => {
  const r = await triage(["serve", "--model", join(work, "no-model"), "--workers", value]);
  expect(r.code).toBe(1);
  const first = r.stderr.split("\n")[0];
  expect(first).toContain("option '--workers <n>'");
  expect(first).toContain(`'${value}' is invalid`);
  expect(r.stderr).toContain("Usage: triage serve");
  expect(r.stderr).not.toMatch(/^\s+at /m);
});

it("serve --help documents --workers and its default on this machine", async () => {
  const r = await triage(["serve", "--help"]);
  expect(r.code).toBe(0);
  const help = r.stdout.replace(/\s+/g, " ");
  expect(help).toContain("--workers <n>");
  expect(help).toContain(`default: one per core, at most 8; here ${Math.min(availableParallelism(), 8)}`);
});

it("serve --workers 2 with a model that does not exist: the primary exits 1 and the reason is printed once", async () => {
  const r = await triage(["serve", "--model", join(work, "no-model"), "--port", "0", "--workers", "2"]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("triage:"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain("no-model");
});
