/**
 * @module `node --import <this file>` appends the URL of every ES module the process loads, one a line, to the file
 * named by TRIAGE_MODULE_TRACE: what a command pulls in at start-up (test/cli/startup.test.ts).
 */
import { appendFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import { register } from "node:module";

// The same file is the loader hook: registered from the main thread, it runs on the loader's own thread.
if (isMainThread) register(import.meta.url);

export async function load(url, context, next) {
  if (process.env.TRIAGE_MODULE_TRACE) appendFileSync(process.env.TRIAGE_MODULE_TRACE, `${url}\n`);
  return next(url, context);
}
