/**
 * @module A `triage` command that listens (serve, dashboard) run from the source in a child process, for the
 * benchmark scripts: resolves once it prints its JSON line with the port, rejects if it exits first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const root = join(import.meta.dirname, "..", "..");

/** Node's arguments for `triage <argv>` from the source, after `nodeArgs` (e.g. cpuProfArgs). */
export function cliArgs(argv: readonly string[], nodeArgs: readonly string[] = []): string[] {
  return [...nodeArgs, "--import", "tsx", join(root, "src/cli/main.ts"), ...argv];
}

/** Node flags that make the process write a V8 CPU profile into `dir`; none without one. */
export function cpuProfArgs(dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", "--cpu-prof-dir", dir] : [];
}

/** `serve` on a free port with a server config and a SQLite decision log, as the load scripts run it. */
export function loadServeArgv(o: { model: string; workers: number; configPath: string; logPath: string }): string[] {
  return ["serve", "--model", o.model, "--workers", String(o.workers), "--port", "0", "--config", o.configPath, "--log-db", o.logPath];
}

export interface Listening {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  base: string;
  exited: Promise<number | null>;
}

/** Runs `triage <argv>` with `env` over the current environment; `what` names it when it fails to start. */
export async function startListening(argv: readonly string[], what: string, env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = []): Promise<Listening> {
  const child = spawn(process.execPath, cliArgs(argv, nodeArgs), { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    void exited.then((code) => reject(new Error(`${what} exited (${code}) before listening`)));
  });
  return { child, base: `http://127.0.0.1:${port}`, exited };
}
