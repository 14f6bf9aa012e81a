/**
 * @module The `triage` command line (cli/): one file per command under commands/, option parsing in parse.ts, tables
 * and progress in output.ts. A thin shell over the library: commands parse, call src/, print; nothing below
 * imports cli/.
 */

import { Command } from "commander";
import { readFileSync } from "node:fs";
import { TriageError } from "../common/errors.js";
import { endQuietlyWhenStdoutCloses, exitAfterThreads } from "./output.js";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: loading all of them (the server, the dashboard,
 * training, their libraries) cost a one-shot `triage route` most of its start-up time.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  train: async () => (await import("./commands/train.js")).registerTrain,
  route: async () => (await import("./commands/route.js")).registerRoute,
  eval: async () => (await import("./commands/eval.js")).registerEval,
  "eval-routing": async () => (await import("./commands/eval-routing.js")).registerEvalRouting,
  bench: async () => (await import("./commands/bench.js")).registerBench,
  info: async () => (await import("./commands/info.js")).registerInfo,
  model: async () => (await import("./commands/model.js")).registerModel,
  serve: async () => (await import("./commands/serve.js")).registerServe,
  logs: async () => (await import("./commands/logs.js")).registerLogs,
  stats: async () => (await import("./commands/stats.js")).registerStats,
  feedback: async () => (await import("./commands/feedback.js")).registerFeedback,
  prune: async () => (await import("./commands/prune.js")).registerPrune,
  retrain: async () => (await import("./commands/retrain.js")).registerRetrain,
  rollback: async () => (await import("./commands/rollback.js")).registerRollback,
  models: async () => (await import("./commands/models.js")).registerModels,
  review: async () => (await import("./commands/review.js")).registerReview,
  dashboard: async () => (await import("./commands/dashboard.js")).registerDashboard,
};

// package.json sits two folders up from both src/cli/main.ts and dist/cli/main.js.
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command()
  .name("triage")
  .description("Route each LLM query to the cheapest tier or model that can handle it, decided locally in milliseconds.")
  .version(version, "-V, --version", "print the version")
  .showHelpAfterError();

// The first argument names the command (no global options come before it); anything else (--help, help,
// a typo) gets every command registered, so help lists them all and a typo gets its suggestion.
const first = process.argv[2] ?? "";
// A one-shot route spends most of its start-up opening USE-Lite's session (the default encoder): start its
// thread before this command's modules and the artifact load, so the two overlap. A model with another
// encoder leaves it unclaimed, closed at exit.
if (first === "route" && !process.argv.includes("--help") && !process.argv.includes("-h")) await import("../encoders/use/session-thread.js").then((m) => m.prestartUseSession());
const named = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
const versionOnly = first === "-V" || first === "--version";
if (!versionOnly) for (const load of named ? [named] : Object.values(COMMANDS)) (await load())(program);

endQuietlyWhenStdoutCloses();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof TriageError) {
    process.stderr.write(`triage: ${err.message}\n`);
    await exitAfterThreads(1);
  }
  throw err;
}
