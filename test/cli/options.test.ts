import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/temp.js";

const run = promisify(execFile);
// Paths point into a temp dir (nothing should be written: parsing fails first).
// The source itself (never a stale dist/ build), as bin/triage.js runs it on a fresh clone.
const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");
const work = tempDir("triage-options-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function triage(args: string[]): Promise<{ stderr: string; code: number }> {
  try {
    const { stderr } = await run(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT, timeout: 60_000 });
    return { stderr, code: 0 };
  } catch (err) {
    const e = err as { stderr: string; code: number };
    return { stderr: e.stderr, code: e.code };
  }
}

/** A bad value is one line naming the option and the value, then the command's usage; never a stack trace. */
function expectCleanOptionError(r: { stderr: string; code: number }, option: string, value: string): void {
  expect(r.code).toBe(1);
  const first = r.stderr.split("\n")[0];
  expect(first).toContain(`option '${option}`);
  expect(first).toContain(`'${value}' is invalid`);
  expect(r.stderr).toContain("Usage: triage");
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe("option values are checked by the shared parsers", () => {
  it("serve --port rejects a value that is not a port", async () => {
    expectCleanOptionError(await triage(["serve", "--model", join(work, "m"), "--port", "abc"]), "--port", "abc");
    expectCleanOptionError(await triage(["serve", "--model", join(work, "m"), "--port", "70000"]), "--port", "70000");
  });

  it("feedback, retrain and eval-routing reject bad numbers the same way", async () => {
    expectCleanOptionError(await triage(["feedback", "--log-db", join(work, "x.db"), "--request-id", "r", "--cost", "-1"]), "--cost", "-1");
    expectCleanOptionError(
      await triage(["retrain", "--registry", join(work, "r"), "--data", join(work, "d"), "--log-db", join(work, "x.db"), "--held-out-share", "1"]),
      "--held-out-share",
      "1",
    );
    expectCleanOptionError(
      await triage(["retrain", "--registry", join(work, "r"), "--data", join(work, "d"), "--log-db", join(work, "x.db"), "--min-delta", "lots"]),
      "--min-delta",
      "lots",
    );
    expectCleanOptionError(await triage(["eval-routing", "--data", join(work, "d.jsonl"), "--seed", "abc"]), "--seed", "abc");
    expectCleanOptionError(
      await triage(["retrain", "--registry", join(work, "r"), "--data", join(work, "d"), "--log-db", join(work, "x.db"), "--cv-repeats", "0"]),
      "--cv-repeats",
      "0",
    );
  });

  it("retrain takes the estimator flags for an outcome model only", async () => {
    const r = await triage(["retrain", "--registry", join(work, "r"), "--data", join(work, "d"), "--log-db", join(work, "x.db"), "--head-dims", "16"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`triage: --head-dims: only for an outcome model, and ${join(work, "r")} does not hold one`);
  });
});

describe("--version", () => {
  it("prints the package's version, as -V too", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const { stdout } = await run(process.execPath, ["--import", "tsx", MAIN, flag], { cwd: ROOT, timeout: 60_000 });
      expect(stdout.trim()).toBe(version);
    }
  });
});
