/**
 * What strict durability costs: /v1/route throughput and latency of a real `triage serve` with a batched
 * log against one with a strict log, both running at once on 127.0.0.1, driven by autocannon from this
 * process at 8 and 64 connections each. In each round both servers are loaded at the same time, so
 * whatever else the machine is doing weighs on both alike, and the ratio is taken per round. Prints each
 * round, then the median and pooled ratios, and what one log() call costs in this process (batched,
 * strict, strict with sync: full).
 *   npx tsx scripts/load-durability.ts [--seconds 15] [--rounds 4] [--model DIR]
 * Without --model, trains one on data/tiers in a temp dir (USE encoder, 3 folds).
 */
import autocannon from "autocannon";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DecisionLog } from "../src/store/index.js";
import { trainExampleModel } from "./lib/example-model.js";
import { type Listening, startListening } from "./lib/serve.js";
import { arg } from "./lib/args.js";

const root = join(import.meta.dirname, "..");
const seconds = Number(arg("seconds", "15"));
const rounds = Number(arg("rounds", "4"));
const work = mkdtempSync(join(tmpdir(), "triage-load-durability-"));
const modes = ["batched", "strict"] as const;
type Mode = (typeof modes)[number];

let model = arg("model", "");
if (!model) {
  model = join(work, "model");
  process.stderr.write("training a model on data/tiers ...\n");
  trainExampleModel(model, join(work, "embeddings.sqlite"));
}

const configPath = join(work, "server.json");
writeFileSync(configPath, JSON.stringify({ reload: { watch: false } }));

interface Served extends Listening {
  logPath: string;
}

async function startServe(mode: Mode): Promise<Served> {
  const logPath = join(work, `${mode}.db`);
  // One process: the kill -9 below must hit the process that holds the queued decisions.
  const argv = ["serve", "--model", model, "--host", "127.0.0.1", "--port", "0", "--config", configPath, "--log-db", logPath, "--log-durability", mode, "--workers", "1"];
  return { ...(await startListening(argv, `triage serve (${mode})`, { TRIAGE_API_KEYS: "" })), logPath };
}

const texts = readFileSync(join(root, "data/tiers/test.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
let sent = 0; // across runs and servers: no text repeats, so the exact-repeat cache never answers
const body = () => {
  const n = sent++;
  return JSON.stringify({ text: `${texts[n % texts.length]} (${n})` });
};

interface Run {
  mode: Mode;
  connections: number;
  round: number;
  ok2xx: number;
  other: number;
  rps: number;
  p50: number;
  p99: number;
}

async function load(s: Served, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${s.base}/v1/route`,
    connections,
    duration,
    timeout: 120,
    requests: [{ method: "POST" as const, headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: body() }) }],
  });
}

const served = { batched: await startServe("batched"), strict: await startServe("strict") };
const runs: Run[] = [];
try {
  for (const mode of modes) await load(served[mode], 8, 3); // warm-up: the first calls compile the encoder's kernels
  for (const connections of [8, 64]) {
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`${connections} connections to each, round ${round}, ${seconds} s ...\n`);
      const results = await Promise.all(modes.map((mode) => load(served[mode], connections, seconds)));
      modes.forEach((mode, k) => {
        const r = results[k];
        runs.push({ mode, connections, round, ok2xx: r["2xx"], other: r.non2xx + r.errors + r.timeouts, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
      });
    }
  }
} finally {
  for (const mode of modes) served[mode].child.kill("SIGTERM");
}
const exitCodes = await Promise.all(modes.map((m) => served[m].exited));
const rows = Object.fromEntries(
  modes.map((m) => {
    const log = DecisionLog.open(served[m].logPath, { readonly: true });
    const n = log.count();
    log.close();
    return [m, n];
  }),
);

const pad = (v: string | number, n: number) => String(v).padStart(n);
console.log(
  `machine: ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}; ${seconds} s per run, ${rounds} rounds`,
);
console.log(`${"mode".padEnd(8)}${pad("conns", 6)}${pad("round", 6)}${pad("2xx", 8)}${pad("other", 7)}${pad("req/s", 9)}${pad("p50 ms", 8)}${pad("p99 ms", 8)}`);
for (const r of runs)
  console.log(`${r.mode.padEnd(8)}${pad(r.connections, 6)}${pad(r.round, 6)}${pad(r.ok2xx, 8)}${pad(r.other, 7)}${pad(r.rps.toFixed(1), 9)}${pad(r.p50, 8)}${pad(r.p99, 8)}`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const connections of [8, 64]) {
  const of = (mode: Mode) => runs.filter((r) => r.mode === mode && r.connections === connections);
  const ratios = of("strict").map((r) => r.ok2xx / Math.max(1, of("batched").find((b) => b.round === r.round)!.ok2xx));
  const pooled = (mode: Mode) => of(mode).reduce((s, r) => s + r.ok2xx, 0) / (rounds * seconds);
  const p50 = (mode: Mode) => median(of(mode).map((r) => r.p50));
  console.log(
    `${connections} connections: strict/batched throughput, median of rounds ${median(ratios).toFixed(2)} ` +
      `(rounds ${ratios.map((x) => x.toFixed(2)).join(" ")}), pooled ${(pooled("strict") / pooled("batched")).toFixed(2)} ` +
      `(${pooled("strict").toFixed(1)} vs ${pooled("batched").toFixed(1)} req/s); median p50 ${p50("strict")} vs ${p50("batched")} ms`,
  );
}
console.log(`log rows: batched ${rows.batched}, strict ${rows.strict}; server exit codes ${exitCodes.join(", ")}`);

// The log's own cost per decision, without the router around it (batched includes its share of the flushes).
for (const [name, options] of [
  ["batched", { durability: "batched" }],
  ["strict", { durability: "strict" }],
  ["strict, sync full", { durability: "strict", sync: "full" }],
] as const) {
  const log = DecisionLog.open(join(work, `cost-${name.replace(/\W+/g, "-")}.db`), options);
  const n = 2000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++)
    log.log(
      {
        requestId: `c${i}`,
        label: "SIMPLE",
        confidence: 0.9,
        margin: 0.5,
        scores: { SIMPLE: 0.9, MEDIUM: 0.1 },
        modelLabel: "SIMPLE",
        neighbours: [],
        decidedBy: "model",
        lowConfidence: false,
        stage: "static",
        latencyMs: 1,
        modelVersion: "v",
      },
      texts[i % texts.length],
    );
  log.close();
  console.log(`log() ${name.padEnd(18)} ${(Number(process.hrtime.bigint() - t0) / 1000 / n).toFixed(1).padStart(8)} µs per decision`);
}
rmSync(work, { recursive: true, force: true });
