/**
 * The decision log in PostgreSQL against SQLite on this machine, in one run:
 * 1. insert throughput (rows/s) from log() to committed rows, in this process: batched (N decisions
 *    queued as fast as they come, then flushed) and strict (64 callers at once, each awaiting its commit);
 * 2. /v1/route throughput of two real `triage serve` processes, one logging to a SQLite file and one to
 *    PostgreSQL, loaded at the same time by autocannon (so machine load weighs on both alike); the ratio
 *    is taken per round.
 * PostgreSQL is a throwaway server on loopback (test/helpers/postgres.ts: fsync off), or --pg-url URL.
 *   npx tsx scripts/load-log.ts [--n 50000] [--seconds 10] [--rounds 3] [--durability batched|strict] [--model DIR] [--pg-url URL]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Decision } from "../src/router/types.js";
import { openDecisionLog, type DecisionStore } from "../src/store/index.js";
import { startPostgres } from "../test/helpers/postgres.js";
import { trainExampleModel } from "./lib/example-model.js";
import { distinctRouteLoad } from "./lib/route-load.js";
import { type Listening, startListening } from "./lib/serve.js";
import { arg } from "./lib/args.js";

const root = join(import.meta.dirname, "..");
const N = Number(arg("n", "50000"));
const seconds = Number(arg("seconds", "10"));
const rounds = Number(arg("rounds", "3"));
const durability = arg("durability", "batched");
const work = mkdtempSync(join(tmpdir(), "triage-load-log-"));
const pgServer = arg("pg-url", "") ? undefined : await startPostgres();
let dbNo = 0;
const pgDb = () => (pgServer ? pgServer.createDatabase(`load${++dbNo}`) : arg("pg-url", ""));

const texts = readFileSync(join(root, "data/tiers/test.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const decision = (i: number, prefix: string): Decision => ({
  requestId: `${prefix}${i}`,
  label: "SIMPLE",
  confidence: 0.9,
  margin: 0.5,
  scores: { SIMPLE: 0.9, MEDIUM: 0.05, COMPLEX: 0.03, FRONTIER: 0.02 },
  modelLabel: "SIMPLE",
  neighbours: [],
  decidedBy: "model",
  lowConfidence: false,
  stage: "full",
  latencyMs: 1.5,
  modelVersion: "v0001",
});

/** rows/s from the first log() to the last row committed. */
async function insertRate(open: () => Promise<DecisionStore>, mode: "batched" | "strict"): Promise<number> {
  const log = await open();
  const n = mode === "strict" ? Math.min(N, 20_000) : N;
  const t0 = performance.now();
  if (mode === "batched") {
    for (let i = 0; i < n; i++) {
      log.log(decision(i, "b"), texts[i % texts.length]);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let the timer-driven flushes run, as a server's event loop does
    }
    await log.flush();
  } else {
    let next = 0;
    const caller = async () => {
      while (next < n) {
        const i = next++;
        await log.log(decision(i, "s"), texts[i % texts.length]);
      }
    };
    await Promise.all(Array.from({ length: 64 }, caller));
  }
  const rate = n / ((performance.now() - t0) / 1000);
  if ((await log.count()) !== n) throw new Error(`expected ${n} rows`);
  await log.close();
  return rate;
}

const inserts: string[] = [];
for (const mode of ["batched", "strict"] as const) {
  const sqlite = await insertRate(() => openDecisionLog(join(work, `insert-${mode}.db`), { durability: mode, maxPending: 1_000_000 }), mode);
  const postgres = await insertRate(() => openDecisionLog(pgDb(), { durability: mode, maxPending: 1_000_000 }), mode);
  inserts.push(
    `insert ${mode.padEnd(8)} SQLite ${sqlite.toFixed(0).padStart(8)} rows/s   PostgreSQL ${postgres.toFixed(0).padStart(8)} rows/s   PostgreSQL/SQLite ${(postgres / sqlite).toFixed(2)}`,
  );
  process.stderr.write(`${inserts[inserts.length - 1]}\n`);
}

let model = arg("model", "");
if (!model) {
  model = join(work, "model");
  process.stderr.write("training a model on data/tiers ...\n");
  trainExampleModel(model, join(work, "embeddings.sqlite"));
}
const configPath = join(work, "server.json");
writeFileSync(configPath, JSON.stringify({ reload: { watch: false } }));

const stores = ["sqlite", "postgres"] as const;
type Store = (typeof stores)[number];
interface Served extends Listening {
  logDb: string;
}

async function startServe(store: Store): Promise<Served> {
  const logDb = store === "sqlite" ? join(work, "route.db") : pgDb();
  const argv = ["serve", "--model", model, "--workers", "1", "--host", "127.0.0.1", "--port", "0", "--config", configPath, "--log-durability", durability];
  return { ...(await startListening(argv, `triage serve (${store})`, { TRIAGE_API_KEYS: "", TRIAGE_LOG_DB: logDb })), logDb };
}

const routeLoad = distinctRouteLoad(root);
const load = (s: Served, connections: number, duration: number) => routeLoad(s.base, connections, duration);

const served = { sqlite: await startServe("sqlite"), postgres: await startServe("postgres") };
const runs: { store: Store; round: number; ok2xx: number; other: number; p50: number; p99: number }[] = [];
try {
  for (const store of stores) await load(served[store], 8, 3); // warm-up
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`round ${round}: 16 connections to each, ${seconds} s ...\n`);
    const results = await Promise.all(stores.map((store) => load(served[store], 16, seconds)));
    stores.forEach((store, k) => {
      const r = results[k];
      runs.push({ store, round, ok2xx: r["2xx"], other: r.non2xx + r.errors + r.timeouts, p50: r.latency.p50, p99: r.latency.p99 });
    });
  }
} finally {
  for (const store of stores) served[store].child.kill("SIGTERM");
}
const exitCodes = await Promise.all(stores.map((s) => served[s].exited));
const logged: Record<string, number> = {};
for (const store of stores) {
  const log = await openDecisionLog(served[store].logDb, { readonly: true });
  logged[store] = await log.count();
  await log.close();
}

console.log(
  `machine: ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}; PostgreSQL ${pgServer ? "throwaway on loopback (fsync off)" : "from --pg-url"}`,
);
for (const line of inserts) console.log(line);
console.log(`/v1/route, log durability ${durability}, 16 connections each, ${seconds} s rounds:`);
for (const r of runs)
  console.log(
    `  round ${r.round} ${r.store.padEnd(9)} ${String(r.ok2xx).padStart(7)} 2xx ${String(r.other).padStart(4)} other ${(r.ok2xx / seconds).toFixed(1).padStart(8)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms`,
  );
const ratios = runs.filter((r) => r.store === "postgres").map((p) => p.ok2xx / Math.max(1, runs.find((s) => s.store === "sqlite" && s.round === p.round)!.ok2xx));
const total = (store: Store) => runs.filter((r) => r.store === store).reduce((s, r) => s + r.ok2xx, 0);
console.log(
  `PostgreSQL/SQLite /v1/route throughput: rounds ${ratios.map((x) => x.toFixed(2)).join(" ")}, pooled ${(total("postgres") / total("sqlite")).toFixed(2)} ` +
    `(${(total("postgres") / (rounds * seconds)).toFixed(1)} vs ${(total("sqlite") / (rounds * seconds)).toFixed(1)} req/s)`,
);
console.log(`rows logged: sqlite ${logged.sqlite}, postgres ${logged.postgres} (2xx incl. warm-up); server exit codes ${exitCodes.join(", ")}`);
pgServer?.stop();
rmSync(work, { recursive: true, force: true });
