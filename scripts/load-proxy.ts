/**
 * Proxy throughput, triage against Portkey's gateway in one run (issue #18), from a load process on loopback:
 *   npx tsx scripts/load-proxy.ts [--seconds 20] [--rounds 2] [--connections 8] [--model DIR] [--portkey DIR] [--cpu-prof DIR]
 * 1. starts the fake provider (test/helpers/fake-openai.ts) in a process of its own, so neither proxy shares a
 *    thread with it or with the load generator;
 * 2. starts `triage serve --workers 1` (one process, routing every request, model "auto", logging each decision) and, when its folder
 *    is given (--portkey or PORTKEY_GATEWAY_DIR: the installed @portkey-ai/gateway package, e.g.
 *    `npm install --prefix /tmp/portkey @portkey-ai/gateway@1.15.2` -> /tmp/portkey/node_modules/@portkey-ai/gateway),
 *    Portkey's gateway forwarding to the same fake (it does not route);
 * 3. drives POST /v1/chat/completions with autocannon, the two in turn for --rounds rounds so that both see the
 *    same machine load, with distinct texts (data/tiers/test.jsonl, numbered once they run out);
 * 4. prints one row per run, the ratio of triage's to Portkey's mean throughput and the load average, checks the
 *    decision log holds one row per 2xx triage answered, and writes reports/load-proxy.json.
 * Without a model it trains one on data/tiers (cached in reports/load-model), as load-route.ts does.
 * --cpu-prof DIR: the triage server writes a V8 CPU profile of its whole run into DIR (node --cpu-prof).
 */
import autocannon from "autocannon";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DecisionLog } from "../src/store/index.js";
import { trainExampleModel } from "./lib/example-model.js";
import { cliArgs, cpuProfArgs, loadServeArgv } from "./lib/serve.js";
import { missingTierModels } from "./lib/tier-models.js";
import { arg } from "./lib/args.js";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);

// The fake provider's own process: prints its base URL, serves until killed.
if (args[0] === "--fake-provider") {
  const { startFakeOpenAI } = await import("../test/helpers/fake-openai.js");
  const fake = await startFakeOpenAI();
  fake.requests.push = () => 0; // nothing is inspected: do not hold every request in memory
  process.stdout.write(`${JSON.stringify({ baseURL: fake.baseURL })}\n`);
  await new Promise(() => {});
}

const seconds = Number(arg("seconds", "20"));
const rounds = Number(arg("rounds", "2"));
const connections = Number(arg("connections", "8"));
const portkeyDir = arg("portkey", process.env.PORTKEY_GATEWAY_DIR ?? "");
const cpuProfDir = arg("cpu-prof", "");
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

const children: ChildProcess[] = [];
/** Spawns a process and resolves with the first stdout line that `parse` accepts. */
function start<T>(name: string, argv: string[], parse: (line: string) => T | undefined, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; value: T }> {
  const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"], env });
  children.push(child);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (line) => {
      const value = parse(line);
      if (value !== undefined) {
        rl.removeAllListeners("line");
        child.stdout!.resume(); // keep draining whatever it prints later
        resolve({ child, value });
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
}
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
};
process.once("exit", stopAll);

const fake = await start(
  "fake provider",
  ["--import", "tsx", join(import.meta.dirname, "load-proxy.ts"), "--fake-provider"],
  (l) => (JSON.parse(l) as { baseURL: string }).baseURL,
);
const fakeURL = fake.value;

const logPath = join(reports, "load-proxy-log.db");
for (const suffix of ["", "-wal", "-shm"]) rmSync(logPath + suffix, { force: true });
const configPath = join(reports, "load-proxy-server.json");
writeFileSync(configPath, JSON.stringify({ providers: [{ name: "fake", baseURL: fakeURL, apiKey: "sk-load-test" }], tiers: missingTierModels(model), reload: { watch: false } }));
const triage = await start(
  "triage serve",
  cliArgs(loadServeArgv({ model, workers: 1, configPath, logPath }), cpuProfArgs(cpuProfDir)),
  (l) => (JSON.parse(l) as { port: number }).port,
  { ...process.env, TRIAGE_API_KEYS: "" },
);
const triageExited = new Promise<number | null>((resolve) => triage.child.once("exit", resolve));

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
}
const targets: Target[] = [{ name: "triage (routes + logs)", url: `http://127.0.0.1:${triage.value}/v1/chat/completions`, headers: { "content-type": "application/json" } }];

const portkeyMain = portkeyDir ? join(portkeyDir, "build", "start-server.js") : "";
if (!portkeyDir) console.log("portkey: skipped, no gateway folder given (--portkey DIR or PORTKEY_GATEWAY_DIR)");
else if (!existsSync(portkeyMain)) console.log(`portkey: skipped, ${portkeyMain} not found`);
else {
  const portkeyPort = 18_000 + Math.floor(Math.random() * 2000);
  // Headless and in production mode: no console UI and no per-request logging, its fastest configuration.
  await start("portkey gateway", [portkeyMain, `--port=${portkeyPort}`, "--headless"], (l) => (l.includes("Ready for connections") ? true : undefined), {
    ...process.env,
    NODE_ENV: "production",
  });
  const pkg = JSON.parse(readFileSync(join(portkeyDir, "package.json"), "utf8")) as { version: string };
  targets.push({
    name: `portkey ${pkg.version} (forwards)`,
    url: `http://127.0.0.1:${portkeyPort}/v1/chat/completions`,
    headers: { "content-type": "application/json", "x-portkey-provider": "openai", "x-portkey-custom-host": fakeURL, authorization: "Bearer sk-load-test" },
  });
}

const texts = readFileSync(join(root, "data/tiers/test.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
let sent = 0; // across runs: no text repeats, so triage's exact-repeat cache never answers
const uniqueText = (n: number) => texts[n % texts.length] + (n < texts.length ? "" : ` (${Math.floor(n / texts.length) + 1})`);
const body = () => JSON.stringify({ model: "auto", messages: [{ role: "user", content: uniqueText(sent++) }] });

interface Run {
  name: string;
  round: number;
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  loadavg1: number;
}
async function drive(t: Target, duration: number, round: number): Promise<Run> {
  const r = await autocannon({
    url: t.url,
    connections,
    duration,
    requests: [{ method: "POST" as const, headers: t.headers, setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  return {
    name: t.name,
    round,
    requests: r.requests.total,
    ok2xx: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    loadavg1: loadavg()[0],
  };
}

process.stderr.write(`warming up ${targets.map((t) => t.name).join(", ")} ...\n`);
const runs: Run[] = [];
for (const t of targets) {
  const warm = await drive(t, 3, 0);
  if (warm.ok2xx === 0) throw new Error(`${t.name}: no 2xx answer in the warm-up (${warm.non2xx} non-2xx, ${warm.errors} errors)`);
  runs.push(warm);
}
for (let round = 1; round <= rounds; round++)
  for (const t of targets) {
    process.stderr.write(`round ${round}: ${t.name}, ${connections} connections, ${seconds} s ...\n`);
    runs.push(await drive(t, seconds, round));
  }

// Requests still in flight when a timed run ends are answered and logged too: wait for them before counting.
await new Promise((r) => setTimeout(r, 1000));
triage.child.kill("SIGTERM");
const triageExit = await triageExited;
stopAll();
const log = DecisionLog.open(logPath, { readonly: true });
const rows = log.count();
log.close();

const measured = runs.filter((r) => r.round > 0);
const meanRps = (name: string) => {
  const own = measured.filter((r) => r.name === name);
  return own.reduce((s, r) => s + r.rps, 0) / Math.max(own.length, 1);
};
const triageRps = meanRps(targets[0].name);
const portkeyRps = targets[1] ? meanRps(targets[1].name) : null;
const triage2xx = runs.filter((r) => r.name === targets[0].name).reduce((s, r) => s + r.ok2xx, 0);
const report = {
  date: new Date().toISOString(),
  machine: { loadavg: loadavg() },
  model,
  connections,
  seconds,
  runs,
  ratio: portkeyRps ? triageRps / portkeyRps : null,
  log: { rows, triage2xx, serverExitCode: triageExit },
};
writeFileSync(join(reports, "load-proxy.json"), JSON.stringify(report, null, 2));

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `${"run".padEnd(30)}${pad("round", 6)}${pad("requests", 10)}${pad("2xx", 9)}${pad("non2xx", 8)}${pad("errors", 8)}${pad("req/s", 9)}${pad("p50 ms", 8)}${pad("p99 ms", 8)}${pad("load1", 7)}`,
);
for (const r of runs)
  console.log(
    `${r.name.padEnd(30)}${pad(r.round || "warm", 6)}${pad(r.requests, 10)}${pad(r.ok2xx, 9)}${pad(r.non2xx, 8)}${pad(r.errors, 8)}${pad(r.rps.toFixed(1), 9)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.loadavg1.toFixed(1), 7)}`,
  );
if (portkeyRps)
  console.log(`triage / portkey throughput: ${(triageRps / portkeyRps).toFixed(2)}x (${triageRps.toFixed(0)} vs ${portkeyRps.toFixed(0)} req/s, mean of ${rounds} rounds)`);
// A timed run may end with requests in flight that triage still answers and logs: at least one row per 2xx.
console.log(
  `decision log: ${rows} rows for ${triage2xx} 2xx answers counted by the client -> ${rows >= triage2xx ? "every answer logged" : "MISSING ROWS"}; triage exit code ${triageExit}`,
);
