/**
 * Load run for issue #4, from a second process on loopback:
 *   npx tsx scripts/load-route.ts [--seconds 60] [--proxy-seconds 20] [--model DIR]
 * 1. trains a model on data/tiers (cached in reports/load-model) unless --model is given;
 * 2. starts `triage serve` in a child process with a decision log and a fake provider (in this process);
 * 3. drives POST /v1/route with autocannon at 8 and 64 connections (texts from data/tiers/test.jsonl, numbered
 *    once they run out, so no request repeats an earlier one and the exact-repeat cache never answers);
 * 4. measures the proxy's added latency: /v1/chat/completions (model "auto") through triage vs the fake directly;
 * 5. stops the server (SIGTERM: drain + flush) and checks the log holds one row per 2xx answer.
 * Prints a table and writes reports/load.json.
 */
import autocannon from "autocannon";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DecisionLog } from "../src/store/index.js";
import { startFakeOpenAI } from "../test/helpers/fake-openai.js";
import { trainExampleModel } from "./lib/example-model.js";
import { missingTierModels } from "./lib/tier-models.js";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const seconds = Number(arg("seconds", "60"));
const proxySeconds = Number(arg("proxy-seconds", "20"));
const reports = join(root, "reports");
mkdirSync(reports, { recursive: true });

let model = arg("model", "");
if (!model) {
  model = join(reports, "load-model");
  if (!existsSync(join(model, "manifest.json"))) {
    process.stderr.write("training a model on data/tiers ...\n");
    trainExampleModel(model);
  }
}

const fake = await startFakeOpenAI();
const logPath = join(reports, "load-log.db");
for (const suffix of ["", "-wal", "-shm"]) rmSync(logPath + suffix, { force: true });
const configPath = join(reports, "load-server.json");
// A model trained without tier models (Banking77) gets one for every label, or the proxy rows would all fail.
writeFileSync(
  configPath,
  JSON.stringify({ providers: [{ name: "fake", baseURL: fake.baseURL, apiKey: "sk-load-test" }], tiers: missingTierModels(model), reload: { watch: false } }),
);

const child: ChildProcess = spawn(
  process.execPath,
  ["--import", "tsx", join(root, "src/cli/main.ts"), "serve", "--model", model, "--port", "0", "--config", configPath, "--log-db", logPath],
  {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, TRIAGE_API_KEYS: "" },
  },
);
const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
const port = await new Promise<number>((resolve, reject) => {
  const rl = createInterface({ input: child.stdout! });
  rl.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
  child.once("exit", (code) => reject(new Error(`triage serve exited (${code}) before listening`)));
});
const base = `http://127.0.0.1:${port}`;
process.stderr.write(`triage serve listening at ${base}\n`);

const texts = readFileSync(join(root, "data/tiers/test.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const json = { "content-type": "application/json" };

interface Run {
  name: string;
  connections: number;
  seconds: number;
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
}

/**
 * A fixed number of requests (sized from the measured rate to last about `duration` s), not a fixed time:
 * a timed run cuts off requests in flight that the server still answers and logs, and then the log
 * check could not be exact.
 */
let sent = 0; // across runs: the server's cache outlives each run
async function run(name: string, url: string, connections: number, duration: number, body: (n: number) => string, rate: number): Promise<Run> {
  const r = await autocannon({
    url,
    connections,
    amount: Math.max(connections * 10, Math.round(rate * duration)),
    // Generous: a request the client gives up on is still answered and logged, which would break the row check.
    timeout: 180,
    // Built per request so no two texts repeat: the router's exact-repeat cache would otherwise answer them.
    requests: [{ method: "POST" as const, headers: json, setupRequest: (req) => ({ ...req, body: body(sent++) }) }],
  });
  return {
    name,
    connections,
    seconds: Math.round(r.duration),
    requests: r.requests.total,
    ok2xx: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    mean: r.latency.mean,
  };
}

/** The n-th text: the test texts in turn, numbered from the second round on so every request is new. */
const uniqueText = (n: number) => texts[n % texts.length] + (n < texts.length ? "" : ` (${Math.floor(n / texts.length) + 1})`);
const routeBodies = (n: number) => JSON.stringify({ text: uniqueText(n) });
const chatBodies = (n: number) => JSON.stringify({ model: "auto", messages: [{ role: "user", content: uniqueText(n) }] });
const runs: Run[] = [];
// Warm-up: the first calls compile the encoder's kernels; its rate sizes the measured runs.
const warm = await run("warm-up", `${base}/v1/route`, 8, 0, routeBodies, 0);
runs.push(warm);
for (const c of [8, 64]) {
  process.stderr.write(`/v1/route, ${c} connections, ~${seconds} s ...\n`);
  runs.push(await run("/v1/route", `${base}/v1/route`, c, seconds, routeBodies, warm.rps));
}
process.stderr.write(`proxy overhead, 8 connections, ~${proxySeconds} s each ...\n`);
const proxied = await run("chat via triage", `${base}/v1/chat/completions`, 8, proxySeconds, chatBodies, warm.rps);
const direct = await run("chat direct to fake", `${fake.baseURL}/chat/completions`, 8, proxySeconds, chatBodies, proxied.rps);
runs.push(proxied, direct);

child.kill("SIGTERM");
const exitCode = await exited;
await fake.close();

const log = DecisionLog.open(logPath, { readonly: true });
const rows = log.count();
log.close();
// Every 2xx from /v1/route and from the proxy (model "auto" routes, so it logs a decision) is one row.
const answered = runs.filter((r) => r.name !== "chat direct to fake").reduce((s, r) => s + r.ok2xx, 0);
const report = {
  date: new Date().toISOString(),
  machine: { cpus: (await import("node:os")).cpus().length, loadavg: (await import("node:os")).loadavg() },
  model,
  runs,
  proxy: {
    directP50Ms: direct.p50,
    proxiedP50Ms: proxied.p50,
    addedP50Ms: proxied.p50 - direct.p50,
    ratioP50: proxied.p50 / Math.max(direct.p50, 0.001),
    ratioMean: proxied.mean / Math.max(direct.mean, 0.001),
  },
  log: { rows, answered2xx: answered, everyDecisionLogged: rows === answered, serverExitCode: exitCode },
};
writeFileSync(join(reports, "load.json"), JSON.stringify(report, null, 2));

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `${"run".padEnd(22)}${pad("conns", 6)}${pad("secs", 6)}${pad("requests", 10)}${pad("2xx", 9)}${pad("non2xx", 8)}${pad("errors", 8)}${pad("req/s", 9)}${pad("p50 ms", 8)}${pad("p99 ms", 8)}`,
);
for (const r of runs)
  console.log(
    `${r.name.padEnd(22)}${pad(r.connections, 6)}${pad(r.seconds, 6)}${pad(r.requests, 10)}${pad(r.ok2xx, 9)}${pad(r.non2xx, 8)}${pad(r.errors + r.timeouts, 8)}${pad(r.rps.toFixed(1), 9)}${pad(r.p50, 8)}${pad(r.p99, 8)}`,
  );
console.log(
  `proxy added latency: p50 ${report.proxy.addedP50Ms.toFixed(1)} ms (direct ${direct.p50} ms, via triage ${proxied.p50} ms; ratio p50 ${report.proxy.ratioP50.toFixed(1)}x, mean ${report.proxy.ratioMean.toFixed(1)}x)`,
);
console.log(
  `decision log: ${rows} rows for ${answered} 2xx answers (warm-up and proxy included) -> ${rows === answered ? "every decision logged" : "MISMATCH"}; server exit code ${exitCode}`,
);
