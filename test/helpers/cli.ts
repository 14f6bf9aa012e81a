/**
 * @module The CLI as tests run it: the current TypeScript source (`src/cli/main.ts`) through tsx,
 * never `bin/triage.js`, which runs the compiled `dist/` and so could test a stale build.
 * Use as `spawn(process.execPath, [...CLI, ...args])`. tsx is named by its absolute URL so that a test
 * may run the CLI with any working directory.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const CLI_MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
export const CLI: readonly string[] = ["--import", TSX, CLI_MAIN];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `triage <args>` to its end with `input` on stdin and `env` over the current environment. */
export function runCli(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** The JSON objects of a command's line-per-object output. */
export const jsonLines = <T>(s: string): T[] =>
  s
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
