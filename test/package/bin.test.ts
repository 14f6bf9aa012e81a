/**
 * @module `bin/triage.js`, the installed command, runs the compiled dist/ only: with dist/ it passes the
 * arguments through, without it it says what to do in one line (it never falls back to the source).
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { tempDir } from "../helpers/temp.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "triage.js");
const exec = promisify(execFile);
let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A package folder holding bin/triage.js, the sources beside it, and dist/ only when asked. */
function fakePackage(withDist: boolean): string {
  root = realpathSync(tempDir("triage-bin-"));
  mkdirSync(join(root, "bin"));
  copyFileSync(BIN, join(root, "bin", "triage.js"));
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
  mkdirSync(join(root, "src", "cli"), { recursive: true });
  writeFileSync(join(root, "src", "cli", "main.ts"), 'console.log("source");\n');
  if (withDist) {
    mkdirSync(join(root, "dist", "cli"), { recursive: true });
    writeFileSync(join(root, "dist", "cli", "main.js"), 'console.log("dist " + process.argv.slice(2).join(" "));\n');
  }
  return root;
}

it("runs dist/cli/main.js with the arguments", async () => {
  const dir = fakePackage(true);
  const { stdout } = await exec(process.execPath, [join(dir, "bin", "triage.js"), "route", "--model", "m"]);
  expect(stdout).toBe("dist route --model m\n");
});

it("without dist/ exits 1 with one line naming the missing file and `npm run build`, never running the source", async () => {
  const dir = fakePackage(false);
  const failed = await exec(process.execPath, [join(dir, "bin", "triage.js"), "--help"]).then(
    () => null,
    (err: unknown) => err as { code: number; stdout: string; stderr: string },
  );
  expect(failed?.code).toBe(1);
  expect(failed?.stdout).toBe("");
  expect(failed?.stderr).toBe(`triage: ${join(dir, "dist", "cli", "main.js")} not found: run \`npm run build\` in ${dir}\n`);
});
