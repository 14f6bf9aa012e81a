/**
 * @module A `triage` command that listens (serve, dashboard) run from the source in a child process, for the
 * benchmark scripts: resolves once it prints its JSON line with the port, rejects if it exits first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const root = join(import.meta.dirname, "..", "..");
const CLI = ["--import", "tsx", join(root, "src/cli/main.ts")];

export interface Listening {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  base: string;
  exited: Promise<number | null>;
}

/** Runs `triage <argv>` with `env` over the current environment; `what` names it when it fails to start. */
export async function startListening(argv: readonly string[], what: string, env: NodeJS.ProcessEnv = {}): Promise<Listening> {
  const child = spawn(process.execPath, [...CLI, ...argv], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    void exited.then((code) => reject(new Error(`${what} exited (${code}) before listening`)));
  });
  return { child, base: `http://127.0.0.1:${port}`, exited };
}
