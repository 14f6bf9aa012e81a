/**
 * Load run for issues #4 and #16, from a second process on loopback:
 *   npx tsx scripts/load-route.ts [--seconds 60] [--proxy-seconds 20] [--model DIR] [--workers 1[,2,...]] [--rounds 1] [--cpu-prof DIR]
 * 1. trains a model on data/tiers (cached in reports/load-model) unless --model is given;
 * 2. starts `triage serve --workers N` (default 1) in a child process with a decision log and a fake
 *    provider (in this process);
 * 3. drives POST /v1/route with autocannon at 8 and 64 connections (texts from data/tiers/test.jsonl, numbered
 *    once they run out, so no request repeats an earlier one and the exact-repeat cache never answers);
 * 4. measures the proxy's added latency: /v1/chat/completions (model "auto") through triage vs the fake directly;
 * 5. stops the server (SIGTERM: drain + flush) and checks the log holds one row per 2xx answer.
 * With several worker counts (--workers 1,2) a server per count runs at once; step 3 alternates between
 * them for --rounds rounds (the same requests for each), and each count's /v1/route throughput (requests
 * over the time they took, all rounds) is compared with the first count's.
 * Prints a table per worker count and writes reports/load.json. --cpu-prof DIR: each server process writes a
 * V8 CPU profile of its run into DIR (node --cpu-prof).
 */
import autocannon from "autocannon";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { DecisionLog } from "../src/store/index.js";
import { startFakeOpenAI } from "../test/helpers/fake-openai.js";
import { trainExampleModel } from "./lib/example-model.js";
import { cpuProfArgs, loadServeArgv, startListening } from "./lib/serve.js";
import { missingTierModels } from "./lib/tier-models.js";
import { arg } from "./lib/args.js";

const root = join(import.meta.dirname, "..");
const seconds = Number(arg("seconds", "60"));
const proxySeconds = Number(arg("proxy-seconds", "20"));
const rounds = Number(arg("rounds", "1"));
const cpuProfDir = arg("cpu-prof", "");
const workerCounts = arg("workers", "1").split(",").map(Number);
if (!workerCounts.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--workers: expected positive integers separated by commas, got "${arg("workers", "1")}"`);
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

const texts = readFileSync(join(root, "data/tiers/test.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const json = { "content-type": "application/json" };

interface Run {
  name: string;
  connections: number;
  seconds: number;
  durationS: number;
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
let sent = 0; // across runs and servers: no text repeats
async function run(name: string, url: string, connections: number, duration: number, body: (n: number) => string, rate: number): Promise<Run> {
  // Timed here: autocannon reports whole seconds, too coarse for runs of a few seconds.
  const started = performance.now();
  const r = await autocannon({
    url,
    connections,
    amount: Math.max(connections * 10, Math.round(rate * duration)),
    // Generous: a request the client gives up on is still answered and logged, which would break the row check.
    timeout: 180,
    // Built per request so no two texts repeat: the router's exact-repeat cache would otherwise answer them.
    requests: [{ method: "POST" as const, headers: json, setupRequest: (req) => ({ ...req, body: body(sent++) }) }],
  });
  const elapsed = (performance.now() - started) / 1000;
  return {
    name,
    connections,
    seconds: Math.round(elapsed),
    durationS: elapsed,
    requests: r.requests.total,
    ok2xx: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rps: r.requests.total / elapsed,
    p50: r.latency.p50,
    p99: r.latency.p99,
    mean: r.latency.mean,
  };
}

/** The n-th text: the test texts in turn, numbered from the second round on so every request is new. */
const uniqueText = (n: number) => texts[n % texts.length] + (n < texts.length ? "" : ` (${Math.floor(n / texts.length) + 1})`);
const routeBodies = (n: number) => JSON.stringify({ text: uniqueText(n) });
const chatBodies = (n: number) => JSON.stringify({ model: "auto", messages: [{ role: "user", content: uniqueText(n) }] });

/** A running `triage serve --workers <workers>` with its fake provider, warmed up. */
async function startServe(workers: number) {
  const fake = await startFakeOpenAI();
  const logPath = join(reports, `load-log-${workers}.db`);
  for (const suffix of ["", "-wal", "-shm"]) rmSync(logPath + suffix, { force: true });
  const configPath = join(reports, `load-server-${workers}.json`);
  // A model trained without tier models (Banking77) gets one for every label, or the proxy rows would all fail.
  writeFileSync(
    configPath,
    JSON.stringify({ providers: [{ name: "fake", baseURL: fake.baseURL, apiKey: "sk-load-test" }], tiers: missingTierModels(model), reload: { watch: false } }),
  );

  const { child, exited, base } = await startListening(loadServeArgv({ model, workers, configPath, logPath }), "triage serve", { TRIAGE_API_KEYS: "" }, cpuProfArgs(cpuProfDir));
  process.stderr.write(`triage serve --workers ${workers} listening at ${base}\n`);
  // Warm-up: the first calls compile the encoder's kernels (in every worker).
  const runs: Run[] = [await run("warm-up", `${base}/v1/route`, 8, 0, routeBodies, 0)];
  return { workers, fake, logPath, child, exited, base, runs };
}
type Served = Awaited<ReturnType<typeof startServe>>;

/** Steps 4-5: the proxy's added latency, then SIGTERM and the log check. */
async function finish(s: Served, rate: number) {
  process.stderr.write(`--workers ${s.workers}: proxy overhead, 8 connections, ~${proxySeconds} s each ...\n`);
  const proxied = await run("chat via triage", `${s.base}/v1/chat/completions`, 8, proxySeconds, chatBodies, rate);
  const direct = await run("chat direct to fake", `${s.fake.baseURL}/chat/completions`, 8, proxySeconds, chatBodies, proxied.rps);
  s.runs.push(proxied, direct);
  s.child.kill("SIGTERM");
  const exitCode = await s.exited;
  await s.fake.close();
  const log = DecisionLog.open(s.logPath, { readonly: true });
  const rows = log.count();
  log.close();
  // Every 2xx from /v1/route and from the proxy (model "auto" routes, so it logs a decision) is one row.
  const answered = s.runs.filter((r) => r.name !== "chat direct to fake").reduce((sum, r) => sum + r.ok2xx, 0);
  return {
    workers: s.workers,
    runs: s.runs,
    proxy: {
      directP50Ms: direct.p50,
      proxiedP50Ms: proxied.p50,
      addedP50Ms: proxied.p50 - direct.p50,
      ratioP50: proxied.p50 / Math.max(direct.p50, 0.001),
      ratioMean: proxied.mean / Math.max(direct.mean, 0.001),
    },
    log: { rows, answered2xx: answered, everyDecisionLogged: rows === answered, serverExitCode: exitCode },
  };
}

const loadBefore = loadavg();
// Every server runs at once and the measured runs alternate between them, round by round, with the same
// number of requests each: a load that changes during the run (a shared machine) hits every count alike.
const servers: Served[] = [];
for (const workers of workerCounts) servers.push(await startServe(workers));
// Sized by a timed run of at least 3 s (autocannon stops on whole-second ticks, so a 1 s warm-up
// under-measures a fast server); the sizing runs are logged like the others and counted in the log check.
let rate = servers[0].runs[0].rps;
for (let amount = 400; ; amount *= 4) {
  const sizing = await run("sizing", `${servers[0].base}/v1/route`, 8, amount / rate, routeBodies, rate);
  servers[0].runs.push(sizing);
  rate = sizing.rps;
  if (sizing.durationS >= 3) break;
}
for (let round = 1; round <= rounds; round++)
  for (const c of [8, 64])
    for (const s of servers) {
      process.stderr.write(`round ${round}/${rounds}: --workers ${s.workers}, /v1/route, ${c} connections, ~${seconds} s ...\n`);
      s.runs.push(await run("/v1/route", `${s.base}/v1/route`, c, seconds, routeBodies, rate));
    }
const results: Awaited<ReturnType<typeof finish>>[] = [];
for (const s of servers) results.push(await finish(s, rate));
/** Requests per second over all of a count's rounds: answered requests over the time they took. */
const routeRps = (r: (typeof results)[number], connections: number): number => {
  const mine = r.runs.filter((x) => x.name === "/v1/route" && x.connections === connections);
  return (
    mine.reduce((sum, x) => sum + x.requests, 0) /
    Math.max(
      mine.reduce((sum, x) => sum + x.durationS, 0),
      1e-9,
    )
  );
};
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadavg() },
  model,
  rounds,
  results,
  throughputVsFirst: results.map((r) => ({
    workers: r.workers,
    rps8: routeRps(r, 8),
    rps64: routeRps(r, 64),
    ratio8: routeRps(r, 8) / Math.max(routeRps(results[0], 8), 1e-9),
    ratio64: routeRps(r, 64) / Math.max(routeRps(results[0], 64), 1e-9),
  })),
};
writeFileSync(join(reports, "load.json"), JSON.stringify(report, null, 2));

const pad = (s: string | number, n: number) => String(s).padStart(n);
for (const r of results) {
  console.log(`\n--workers ${r.workers}`);
  console.log(
    `${"run".padEnd(22)}${pad("conns", 6)}${pad("secs", 6)}${pad("requests", 10)}${pad("2xx", 9)}${pad("non2xx", 8)}${pad("errors", 8)}${pad("req/s", 9)}${pad("p50 ms", 8)}${pad("p99 ms", 8)}`,
  );
  for (const x of r.runs)
    console.log(
      `${x.name.padEnd(22)}${pad(x.connections, 6)}${pad(x.seconds, 6)}${pad(x.requests, 10)}${pad(x.ok2xx, 9)}${pad(x.non2xx, 8)}${pad(x.errors + x.timeouts, 8)}${pad(x.rps.toFixed(1), 9)}${pad(x.p50, 8)}${pad(x.p99, 8)}`,
    );
  console.log(
    `proxy added latency: p50 ${r.proxy.addedP50Ms.toFixed(1)} ms (direct ${r.proxy.directP50Ms} ms, via triage ${r.proxy.proxiedP50Ms} ms; ratio p50 ${r.proxy.ratioP50.toFixed(1)}x, mean ${r.proxy.ratioMean.toFixed(1)}x)`,
  );
  console.log(
    `decision log: ${r.log.rows} rows for ${r.log.answered2xx} 2xx answers (warm-up and proxy included) -> ${r.log.everyDecisionLogged ? "every decision logged" : "MISMATCH"}; server exit code ${r.log.serverExitCode}`,
  );
}
if (results.length > 1)
  for (const t of report.throughputVsFirst.slice(1))
    console.log(
      `/v1/route throughput, --workers ${t.workers} vs ${results[0].workers}: ${t.ratio8.toFixed(2)}x at 8 connections (${t.rps8.toFixed(0)} vs ${report.throughputVsFirst[0].rps8.toFixed(0)} req/s), ${t.ratio64.toFixed(2)}x at 64`,
    );
console.log(`load average (1, 5, 15 min): before ${loadBefore.map((x) => x.toFixed(2)).join(", ")}; after ${report.machine.loadavgAfter.map((x) => x.toFixed(2)).join(", ")}`);
