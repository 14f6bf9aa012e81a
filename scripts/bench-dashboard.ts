/**
 * What the dashboard costs, on this machine:
 * 1. a decision log of 1,000,000 decisions (30 days, with cost outcomes, escalations and caller tags),
 *    written through DecisionLog.log; `triage dashboard` on it: the overview's render time, the first one
 *    after the first start (answered from the newest decisions while the in-memory facts are built from
 *    the rest of the log, marked partial) and how long the build takes until the live refresh's JSON says
 *    it is complete, the first one after a restart (which reads them back from the snapshot) and the
 *    later ones, per time range and with a caller-tag filter; the decisions table's page time (newest
 *    page, paging down, filters, searches);
 * 2. /v1/route throughput of two `triage serve` processes on the same model, one with the dashboard and a
 *    viewer polling its overview every 2 s (five times a browser tab's rate), one with --no-dashboard,
 *    loaded by autocannon at the same time (so the machine's other work weighs on both alike): the
 *    ratio per round, then the median and pooled ratio;
 * 3. the same while the dashboard's first build runs: both servers on copies of the big log, the
 *    dashboard's snapshot removed, the first overview opened as the load starts and a viewer polling it
 *    every second (as a partial page does) through the round; the ratio per round, and how far the
 *    build got.
 * Prints tables and writes reports/bench-dashboard.json.
 *   npx tsx scripts/bench-dashboard.ts [--rows 1000000] [--db FILE] [--fresh] [--seconds 15] [--rounds 3] [--model DIR] [--skip-load] [--only-build-load [--control]]
 * The log is kept (default: the system temp folder) and reused by later runs unless --fresh.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { snapshotPath } from "../src/server/dashboard/snapshot.js";
import { generateLog } from "../test/helpers/dashboard-log.js";
import { trainExampleModel } from "./lib/example-model.js";
import { distinctRouteLoad } from "./lib/route-load.js";
import { type Listening, startListening } from "./lib/serve.js";
import { arg } from "./lib/args.js";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const rows = Number(arg("rows", "1000000"));
const seconds = Number(arg("seconds", "15"));
const rounds = Number(arg("rounds", "3"));
const work = mkdtempSync(join(tmpdir(), "triage-bench-dashboard-"));
const dbPath = arg("db", join(tmpdir(), `triage-bench-dashboard-${rows}.db`));
const _CLI = ["--import", "tsx", join(root, "src/cli/main.ts")];
const log = (m: string) => process.stderr.write(`${m}\n`);

// ---- the model (the dashboard's Models/Review pages and the route load need one) ---------------------
let model = arg("model", "");
if (!model) {
  model = join(work, "model");
  log("training a model on data/tiers ...");
  trainExampleModel(model, join(work, "embeddings.sqlite"));
}

// ---- 1. the log ---------------------------------------------------------------------------------------
function logRows(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM decisions").get() as { n: number }).n;
  } finally {
    db.close();
  }
}
let generated: { seconds: number; feedback: number } | null = null;
if (flag("fresh") || logRows(dbPath) < rows) {
  for (const s of ["", "-wal", "-shm"]) rmSync(dbPath + s, { force: true });
  log(`writing ${rows.toLocaleString("en-US")} decisions to ${dbPath} ...`);
  const t0 = performance.now();
  const r = generateLog(dbPath, { n: rows, seed: 11, onProgress: (n) => log(`  ${n.toLocaleString("en-US")}`) });
  generated = { seconds: (performance.now() - t0) / 1000, feedback: r.feedback };
}
const dbBytes = statSync(dbPath).size;

type Child = Listening;

const start = (argv: string[], what: string): Promise<Child> => startListening(argv, what, { TRIAGE_API_KEYS: "", TRIAGE_ADMIN_KEYS: "" });

function rssMb(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function timed(url: string): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

/** Polls the overview's JSON every second (as a partial page does) until the facts are complete. */
async function untilBuilt(base: string, limitMs = 600_000): Promise<{ ms: number; polls: number; pollMs: number; requests: number }> {
  const t0 = performance.now();
  const ms: number[] = [];
  for (;;) {
    const r = await timed(`${base}/dashboard/api/overview?range=30d`);
    if (r.status !== 200) throw new Error(`overview JSON answered ${r.status}: ${r.body.slice(0, 300)}`);
    ms.push(r.ms);
    const d = JSON.parse(r.body) as { covered: { loading: unknown }; totals: { requests: number } };
    if (d.covered.loading === null) return { ms: performance.now() - t0, polls: ms.length, pollMs: stats(ms).median, requests: d.totals.requests };
    if (performance.now() - t0 > limitMs) throw new Error(`the dashboard's facts were not complete after ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { n: s.length, median: at(50), p95: at(95), max: s[s.length - 1] };
}

const results: Record<string, unknown> = {};
// --only-build-load: part 3 alone; --control: part 3 without opening the dashboard.
const only3 = flag("only-build-load");
const control = flag("control");
if (!only3) {
  rmSync(snapshotPath(dbPath), { force: true }); // the first start builds the facts from the whole log
  const dashArgs = ["dashboard", "--log-db", dbPath, "--model", model, "--port", "0", "--host", "127.0.0.1"];
  let dash = await start(dashArgs, "triage dashboard");
  try {
    const cold = await timed(`${dash.base}/dashboard?range=30d`);
    if (cold.status !== 200) throw new Error(`overview answered ${cold.status}: ${cold.body.slice(0, 300)}`);
    const requests = /data-kpi="requests"><div class="kpi-label">Requests<\/div><div class="kpi-value" data-value>([\d,]+)/.exec(cold.body)?.[1];
    const coldPartial = cold.body.includes("data-partial");
    log(`first overview: ${cold.ms.toFixed(0)} ms, ${requests} requests in range${coldPartial ? " (partial)" : ""}`);
    // The live refresh, every second while partial, until the build is done.
    const built = await untilBuilt(dash.base);
    log(`facts complete ${(built.ms / 1000).toFixed(1)} s after the first overview (${built.polls} polls, median ${built.pollMs.toFixed(0)} ms)`);
    const overview: Record<string, ReturnType<typeof stats>> = {};
    for (const [name, path] of [
      ["page 30d", "/dashboard?range=30d"],
      ["page 7d", "/dashboard?range=7d"],
      ["page 24h", "/dashboard?range=24h"],
      ["page 30d, tag feature=search", "/dashboard?range=30d&tag=feature%3Dsearch"],
      ["page 30d, tag user=u42", "/dashboard?range=30d&tag=user%3Du42"],
      ["JSON (live refresh) 30d", "/dashboard/api/overview?range=30d"],
    ] as const) {
      const ms: number[] = [];
      for (let i = 0; i < 15; i++) {
        const r = await timed(`${dash.base}${path}`);
        if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
        ms.push(r.ms);
      }
      overview[name] = stats(ms);
    }

    const pages: Record<string, ReturnType<typeof stats> & { partial: number }> = {};
    for (const [name, first, count] of [
      ["newest page, then 20 older", "/dashboard/decisions", 21],
      ["label=FRONTIER, 10 pages", "/dashboard/decisions?label=FRONTIER", 10],
      ["confidence=low, 10 pages", "/dashboard/decisions?confidence=low", 10],
      ["search 'revenue fell', 10 pages", "/dashboard/decisions?q=revenue+fell", 10],
      ["search a request id prefix", `/dashboard/decisions?q=gen-`, 1],
      ["tag user=u42, 10 pages", "/dashboard/decisions?tag=user%3Du42", 10],
      ["feedback=escalated, 10 pages", "/dashboard/decisions?feedback=escalated", 10],
      ["search '#999999' (one match), until found", "/dashboard/decisions?q=%23999999", 10],
    ] as const) {
      const ms: number[] = [];
      let partial = 0;
      let url: string | undefined = first;
      for (let i = 0; i < count && url; i++) {
        const r = await timed(`${dash.base}${url}`);
        if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
        ms.push(r.ms);
        const more = /<a href="([^"]+)" rel="next">Older/.exec(r.body)?.[1] ?? /<a href="([^"]+)">Keep searching older decisions/.exec(r.body)?.[1];
        if (r.body.includes("Keep searching older decisions")) partial++;
        url = more?.replace(/&amp;/g, "&");
      }
      pages[name] = { ...stats(ms), partial };
    }
    // The pages that do more than read: Review builds the queue (ranking the newest 20,000 decisions,
    // embedding the head of the ranking), a decision's page embeds its query and searches the index.
    const others: Record<string, number[]> = {};
    for (const [name, path] of [
      ["review queue", "/dashboard/review"],
      ["a decision's explanation", `/dashboard/decisions/${/<tr data-request-id="([^"]+)"/.exec((await timed(`${dash.base}/dashboard/decisions`)).body)?.[1]}`],
    ] as const) {
      others[name] = [];
      for (let i = 0; i < 3; i++) {
        const r = await timed(`${dash.base}${path}`);
        if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
        others[name].push(r.ms);
      }
    }
    const rss = rssMb(dash.child.pid);
    // A restart: the facts come back from the snapshot written after the first build.
    dash.child.kill("SIGTERM");
    await dash.exited;
    const snapshotBytes = existsSync(snapshotPath(dbPath)) ? statSync(snapshotPath(dbPath)).size : 0;
    dash = await start(dashArgs, "triage dashboard");
    const restarted = await timed(`${dash.base}/dashboard?range=30d`);
    log(`first overview after a restart (snapshot of ${(snapshotBytes / 2 ** 20).toFixed(0)} MiB): ${restarted.ms.toFixed(0)} ms`);
    results.dashboard = {
      coldOverviewMs: cold.ms,
      coldPartial,
      coldRequests: requests,
      buildMs: built.ms,
      buildPolls: built.polls,
      restartOverviewMs: restarted.ms,
      snapshotBytes,
      overview,
      pages,
      others,
      rssMb: rss,
    };
  } finally {
    dash.child.kill("SIGTERM");
    await dash.exited;
  }
}

/** One `serve` process (the figures are per process) on `logDb`, with or without the dashboard. */
const serveArgs = (configPath: string, logDb: string, dashboard: boolean) => [
  "serve",
  "--model",
  model,
  "--workers",
  "1",
  "--host",
  "127.0.0.1",
  "--port",
  "0",
  "--config",
  configPath,
  "--log-db",
  logDb,
  ...(dashboard ? [] : ["--no-dashboard"]),
];
const routeLoad = distinctRouteLoad(root);

// ---- 2. /v1/route with and without the dashboard --------------------------------------------------------
if (!flag("skip-load") && !only3) {
  const configPath = join(work, "server.json");
  writeFileSync(configPath, JSON.stringify({ reload: { watch: false } }));
  const variants = ["with", "without"] as const;
  const serve = (v: (typeof variants)[number]) => start(serveArgs(configPath, join(work, `${v}.db`), v === "with"), `serve (${v})`);
  const servers = { with: await serve("with"), without: await serve("without") };
  const load = (s: Child, connections: number, duration: number) => routeLoad(s.base, connections, duration);
  // A viewer with the overview open, refreshing five times as often as the page does.
  let viewing = true;
  let views = 0;
  const viewer = (async () => {
    while (viewing) {
      const r = await fetch(`${servers.with.base}/dashboard/api/overview?range=24h`).catch(() => null);
      if (r?.ok) views++;
      await r?.text();
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  })();
  const runs: Array<{ variant: string; connections: number; round: number; ok: number; rps: number; p50: number; p99: number }> = [];
  try {
    for (const v of variants) await load(servers[v], 8, 3); // warm-up
    for (const connections of [8, 64])
      for (let round = 1; round <= rounds; round++) {
        log(`/v1/route, ${connections} connections to each, round ${round}, ${seconds} s ...`);
        const r = await Promise.all(variants.map((v) => load(servers[v], connections, seconds)));
        variants.forEach((v, k) => runs.push({ variant: v, connections, round, ok: r[k]["2xx"], rps: r[k].requests.average, p50: r[k].latency.p50, p99: r[k].latency.p99 }));
      }
  } finally {
    viewing = false;
    await viewer;
    for (const v of variants) servers[v].child.kill("SIGTERM");
    await Promise.all(variants.map((v) => servers[v].exited));
  }
  const summary = [8, 64].map((connections) => {
    const of = (v: string) => runs.filter((r) => r.variant === v && r.connections === connections);
    const ratios = of("with").map((r) => r.ok / Math.max(1, of("without").find((w) => w.round === r.round)!.ok));
    const pooled = (v: string) => of(v).reduce((s, r) => s + r.ok, 0) / (rounds * seconds);
    return { connections, ratios, median: stats(ratios).median, pooled: pooled("with") / pooled("without"), withRps: pooled("with"), withoutRps: pooled("without") };
  });
  results.route = { runs, summary, overviewPolls: views };
}

// ---- 3. /v1/route while the dashboard's first build runs ------------------------------------------------
if (!flag("skip-load")) {
  const configPath = join(work, "server.json");
  writeFileSync(configPath, JSON.stringify({ reload: { watch: false } }));
  // Both on the big log (route decisions go to the same kind of table), each on a copy of its own.
  const copies = { with: join(work, "build-with.db"), without: join(work, "build-without.db") };
  for (const c of Object.values(copies)) copyFileSync(dbPath, c);
  const serveOn = (v: "with" | "without") => start(serveArgs(configPath, copies[v], v === "with"), `serve on the big log (${v})`);
  const load = (s: Child, connections: number, duration: number) => routeLoad(s.base, connections, duration);
  const builds: Array<{ connections: number; round: number; read: number | null; firstMs: number; firstPartial: boolean; with: number; without: number; ratio: number }> = [];
  for (const connections of [8, 64])
    for (let round = 1; round <= rounds; round++) {
      rmSync(snapshotPath(copies.with), { force: true }); // a fresh first build each round
      // Both servers start afresh each round, so neither is better warmed up than the other.
      const [withDash, without] = await Promise.all([serveOn("with"), serveOn("without")]);
      try {
        await Promise.all([load(withDash, connections, 2), load(without, connections, 2)]); // warm-up
        log(`/v1/route during the dashboard's first build, ${connections} connections, round ${round} ...`);
        const runs = [load(withDash, connections, seconds), load(without, connections, seconds)];
        // --control: the dashboard is never opened (what two fresh servers differ by without the build).
        const first = control ? { ms: 0, status: 200, body: "" } : await timed(`${withDash.base}/dashboard?range=30d`);
        if (first.status !== 200) throw new Error(`overview answered ${first.status}`);
        let polling = !control;
        let read: number | null = null;
        const viewer = (async () => {
          while (polling) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const r = await timed(`${withDash.base}/dashboard/api/overview?range=30d`);
            const loading = (JSON.parse(r.body) as { covered: { loading: { read: number } | null } }).covered.loading;
            read = loading ? loading.read : rows;
          }
        })();
        const [w, wo] = await Promise.all(runs);
        polling = false;
        await viewer;
        builds.push({
          connections,
          round,
          read,
          firstMs: first.ms,
          firstPartial: first.body.includes("data-partial"),
          with: w["2xx"],
          without: wo["2xx"],
          ratio: w["2xx"] / Math.max(1, wo["2xx"]),
        });
      } finally {
        for (const s of [withDash, without]) s.child.kill("SIGTERM");
        await Promise.all([withDash.exited, without.exited]);
      }
    }
  results.routeDuringBuild = builds;
}

// ---- report ---------------------------------------------------------------------------------------------
const machine = `${cpus().length} CPUs, load average ${loadavg()
  .map((l) => l.toFixed(1))
  .join(" ")}`;
const f = (v: number) => v.toFixed(0).padStart(6);
console.log(`machine: ${machine}`);
console.log(
  `log: ${rows.toLocaleString("en-US")} decisions, ${(dbBytes / 2 ** 20).toFixed(0)} MiB${generated ? `, written in ${generated.seconds.toFixed(0)} s with ${generated.feedback.toLocaleString("en-US")} feedback rows` : " (reused)"}`,
);
const d = (results.dashboard ?? null) as {
  coldOverviewMs: number;
  coldPartial: boolean;
  coldRequests: string | undefined;
  buildMs: number;
  buildPolls: number;
  restartOverviewMs: number;
  snapshotBytes: number;
  overview: Record<string, ReturnType<typeof stats>>;
  pages: Record<string, ReturnType<typeof stats> & { partial: number }>;
  others: Record<string, number[]>;
  rssMb: number | null;
} | null;
if (d) {
  console.log(`\noverview (target < 1000 ms); dashboard RSS ${d.rssMb?.toFixed(0) ?? "?"} MiB`);
  console.log(
    `first one after the first start: ${d.coldOverviewMs.toFixed(0)} ms${d.coldPartial ? `, partial (${d.coldRequests} decisions read, newest first)` : ""}; facts complete ${(d.buildMs / 1000).toFixed(1)} s later (${d.buildPolls} polls of the live refresh)`,
  );
  console.log(`first one after a restart (reads them from the ${(d.snapshotBytes / 2 ** 20).toFixed(0)} MiB snapshot): ${d.restartOverviewMs.toFixed(0)} ms`);
  console.log(`${"".padEnd(34)}${"median".padStart(7)}${"p95".padStart(7)}${"max".padStart(7)}  ms`);
  for (const [name, s] of Object.entries(d.overview)) console.log(`${name.padEnd(34)}${f(s.median)} ${f(s.p95)} ${f(s.max)}`);
  console.log("\ndecisions table pages (target < 200 ms)");
  console.log(`${"".padEnd(42)}${"pages".padStart(6)}${"median".padStart(7)}${"p95".padStart(7)}${"max".padStart(7)}  ms  budget-ended`);
  for (const [name, s] of Object.entries(d.pages)) console.log(`${name.padEnd(42)}${String(s.n).padStart(6)}${f(s.median)} ${f(s.p95)} ${f(s.max)}  ${s.partial}`);
  console.log("\nother pages, three loads each (the first includes loading the model's index)");
  for (const [name, ms] of Object.entries(d.others)) console.log(`${name.padEnd(34)}${ms.map((x) => f(x)).join(" ")}  ms`);
}
if (results.route) {
  const r = results.route as {
    summary: Array<{ connections: number; ratios: number[]; median: number; pooled: number; withRps: number; withoutRps: number }>;
    overviewPolls: number;
  };
  console.log(`\n/v1/route with the dashboard (and ${r.overviewPolls} overview polls) against --no-dashboard, ${rounds} rounds of ${seconds} s at once`);
  for (const s of r.summary)
    console.log(
      `${String(s.connections).padStart(3)} connections: with/without median ${s.median.toFixed(2)} (rounds ${s.ratios.map((x) => x.toFixed(2)).join(" ")}), pooled ${s.pooled.toFixed(2)} (${s.withRps.toFixed(1)} vs ${s.withoutRps.toFixed(1)} req/s)`,
    );
}
if (results.routeDuringBuild) {
  const b = results.routeDuringBuild as Array<{
    connections: number;
    round: number;
    read: number | null;
    firstMs: number;
    firstPartial: boolean;
    with: number;
    without: number;
    ratio: number;
  }>;
  console.log(`\n/v1/route during the dashboard's first build on the big log (a viewer polling every second), ${rounds} rounds of ${seconds} s, against --no-dashboard`);
  for (const connections of [8, 64]) {
    const rs = b.filter((r) => r.connections === connections);
    const pooled =
      rs.reduce((sum, r) => sum + r.with, 0) /
      Math.max(
        1,
        rs.reduce((sum, r) => sum + r.without, 0),
      );
    console.log(
      `${String(connections).padStart(3)} connections: with/without median ${stats(rs.map((r) => r.ratio)).median.toFixed(2)} (rounds ${rs.map((r) => r.ratio.toFixed(2)).join(" ")}), pooled ${pooled.toFixed(2)}; decisions read by the round's end ${rs.map((r) => (r.read ?? 0).toLocaleString("en-US")).join(" ")}; first overviews ${rs.map((r) => `${r.firstMs.toFixed(0)}${r.firstPartial ? "p" : ""}`).join(" ")} ms (p: partial)`,
    );
  }
}
mkdirSync(join(root, "reports"), { recursive: true });
writeFileSync(join(root, "reports", "bench-dashboard.json"), JSON.stringify({ machine, rows, dbBytes, generated, ...results }, null, 2) + "\n");
rmSync(work, { recursive: true, force: true });
