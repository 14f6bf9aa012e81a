/**
 * The dashboard's reads on a PostgreSQL decision log against the same log in SQLite, in one run (so the
 * machine's other work weighs on both alike): a generated log (test/helpers/dashboard-log.ts) copied
 * into a throwaway PostgreSQL (test/helpers/postgres.ts, loopback, fsync off), then per store:
 * - the first overview after the first start (answered after 300 ms from what is read, marked partial)
 *   and how long the whole build takes;
 * - the first overview after a restart, from the facts snapshot (the SQLite log's `<log>-dashboard`;
 *   PostgreSQL's in the cache folder, here a temp one) and, for comparison, with the snapshot deleted;
 * - the decisions table: the newest page, a search for a rare word, a caller-tag filter.
 * Medians of --rounds runs. Prints a table and the load average.
 *   npx tsx scripts/bench-dashboard-pg.ts [--rows 200000] [--rounds 3]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { DashboardContext } from "../src/server/dashboard/context.js";
import { DashboardData } from "../src/server/dashboard/data.js";
import { snapshotPathFor } from "../src/server/dashboard/snapshot.js";
import { DashboardReader, type DashboardLogReader } from "../src/store/dashboard-queries.js";
import { PgDashboardReader } from "../src/store/postgres/dashboard-queries.js";
import { generateLog } from "../test/helpers/dashboard-log.js";
import { copyToPostgres } from "../test/helpers/pg-copy.js";
import { startPostgres } from "../test/helpers/postgres.js";
import { arg } from "./lib/args.js";

const rows = Number(arg("rows", "200000"));
const rounds = Number(arg("rounds", "3"));
const log = (m: string) => process.stderr.write(`${m}\n`);
const work = mkdtempSync(join(tmpdir(), "triage-bench-dashboard-pg-"));
process.env.XDG_CACHE_HOME = join(work, "cache"); // PostgreSQL's snapshot goes to the cache folder
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const PRICES = { SIMPLE: { input: 0.15, output: 0.6 }, MEDIUM: { input: 2.5, output: 10 }, COMPLEX: { input: 3, output: 15 }, FRONTIER: { input: 15, output: 60 } };

const sqlitePath = join(work, "log.db");
log(`generating ${rows.toLocaleString("en-US")} decisions ...`);
generateLog(sqlitePath, { n: rows, seed: 11, since: Date.now() - 30 * 86_400_000 });
const pg = await startPostgres();
try {
  const url = pg.createDatabase("bench");
  log("copying them into PostgreSQL ...");
  await copyToPostgres(sqlitePath, url);

  const stores: Array<{ name: string; logPath: string; open: () => Promise<DashboardLogReader> }> = [
    { name: "SQLite", logPath: sqlitePath, open: async () => DashboardReader.open(sqlitePath) },
    { name: "PostgreSQL", logPath: url, open: () => PgDashboardReader.open(url) },
  ];
  const context = (s: (typeof stores)[number]): DashboardContext => ({
    logPath: s.logPath,
    openReader: s.open,
    feedbackLog: () => {
      throw new Error("not used");
    },
    model: null,
    prices: () => PRICES,
    auth: { tokens: [], adminTokens: [] },
    onError: (e) => log(`error: ${e.message}`),
  });
  const week = () => ({ since: Date.now() - 7 * 86_400_000, until: Date.now() + 1 });
  const table: Record<string, Record<string, string>> = {};
  for (const s of stores) {
    const snapshot = snapshotPathFor({
      kind: s.name === "SQLite" ? "sqlite" : "postgres",
      path:
        s.name === "SQLite"
          ? sqlitePath
          : await s.open().then(async (r) => {
              await r.close();
              return r.path;
            }),
    });
    const m: Record<string, number[]> = { first: [], build: [], restart: [], rebuild: [], newest: [], search: [], tag: [] };
    let snapshotBytes = 0;
    for (let round = 0; round < rounds; round++) {
      rmSync(snapshot, { force: true });
      // First start: the first answer (partial after 300 ms), then the whole build.
      let t = performance.now();
      const d = new DashboardData(context(s));
      await d.overview(week());
      m.first.push(performance.now() - t);
      await (await d.facts()).ready(Number.POSITIVE_INFINITY);
      m.build.push(performance.now() - t);
      const reader = await d.reader();
      t = performance.now();
      await reader.page({ limit: 50 });
      m.newest.push(performance.now() - t);
      t = performance.now();
      await reader.page({ limit: 50, search: "#199" });
      m.search.push(performance.now() - t);
      t = performance.now();
      await reader.page({ limit: 50, tag: { key: "feature", value: "search" } });
      m.tag.push(performance.now() - t);
      await d.close(); // writes the snapshot
      snapshotBytes = statSync(snapshot).size;
      // Restart: from the snapshot, then from the log without it.
      t = performance.now();
      const again = new DashboardData(context(s), { firstAnswerMs: Number.POSITIVE_INFINITY });
      await again.overview(week());
      m.restart.push(performance.now() - t);
      await again.close();
      rmSync(snapshot, { force: true });
      t = performance.now();
      const cold = new DashboardData(context(s), { firstAnswerMs: Number.POSITIVE_INFINITY });
      await cold.overview(week());
      m.rebuild.push(performance.now() - t);
      await cold.close();
    }
    table[s.name] = Object.fromEntries([...Object.entries(m).map(([k, v]) => [k, `${median(v).toFixed(0)} ms`]), ["snapshot", `${(snapshotBytes / 2 ** 20).toFixed(1)} MiB`]]);
  }
  console.table(table);
  console.log(
    `rows ${rows}, rounds ${rounds}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
} finally {
  pg.stop();
  rmSync(work, { recursive: true, force: true });
}
