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
  port: number;
  /** Its JSON "listening" line (serve's also names the model version and the workers). */
  line: Record<string, unknown> & { port: number };
  /** http://127.0.0.1:PORT */
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  /** SIGTERM (or `signal`) unless it has exited; resolves with its exit. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `triage <args>` (which should include `--port 0 --host 127.0.0.1`) with `env` over the current environment. */
export async function startListening(args: readonly string[], env: Record<string, string> = {}): Promise<ListeningProcess> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const line = await new Promise<ListeningProcess["line"]>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (text) => resolve(JSON.parse(text) as ListeningProcess["line"]));
    void exited.then(({ code }) => reject(new Error(`triage ${args[0]} exited (${code}) before listening: ${stderr}`)));
  });
  const stop = (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const port = line.port;
  return { child, port, line, url: `http://127.0.0.1:${port}`, exited, stderr: () => stderr, stop };
}
