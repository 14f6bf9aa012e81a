/**
 * @module A `triage` command that listens (serve, dashboard) as tests run it: a real process on 127.0.0.1
 * whose first stdout line is its JSON "listening" line. Resolves once that line names the port; rejects,
 * with the command's stderr, if it exits first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI } from "./cli.js";

export interface ListeningProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Runs `triage <args>` (which should include `--port 0 --host 127.0.0.1`) with `env` over the current environment. */
export async function startListening(args: readonly string[], env: Record<string, string> = {}): Promise<ListeningProcess> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    void exited.then(({ code }) => reject(new Error(`triage ${args[0]} exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited, stderr: () => stderr };
}
