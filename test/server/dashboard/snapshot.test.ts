/**
 * The dashboard's facts snapshot beside a big log: written after the first build and at close, read back
 * at the next start instead of a full scan, ignored when it belongs to another log or rows were pruned
 * past it, and never written over a file triage did not create. A PostgreSQL log's snapshot is kept in
 * the user's cache folder, under a name made from the URL without its password.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DashboardContext } from "../../../src/server/dashboard/context.js";
import { DashboardData } from "../../../src/server/dashboard/data.js";
import { snapshotPath, snapshotPathFor } from "../../../src/server/dashboard/snapshot.js";
import { DecisionLog, redactUrl } from "../../../src/store/index.js";
import { PgDashboardReader } from "../../../src/store/postgres/dashboard-queries.js";
import { generateLog } from "../../helpers/dashboard-log.js";
import { tempDir } from "../../helpers/tiers.js";
import { testStores } from "./stores.js";

const ROWS = 60_000; // above the size from which the dashboard keeps a snapshot
let template: string;

beforeAll(() => {
  template = join(tempDir(), "template.db");
  generateLog(template, { n: ROWS, seed: 5, since: Date.now() - 3 * 86_400_000 });
}, 120_000);

function copyLog(): string {
  const path = join(tempDir(), "log.db");
  const db = new Database(template, { readonly: true });
  db.exec(`VACUUM INTO '${path.replace(/'/g, "''")}'`);
  db.close();
  return path;
}

function context(logPath: string, errors: Error[] = []): DashboardContext {
  return {
    logPath,
    feedbackLog: () => {
      throw new Error("not used");
    },
    model: null,
    prices: () => ({ SIMPLE: { input: 0.15, output: 0.6 }, FRONTIER: { input: 15, output: 60 } }),
    auth: { tokens: [], adminTokens: [] },
    onError: (e) => void errors.push(e),
  };
}

/** Pages wait for the whole first build here (test/server/dashboard/partial.test.ts covers the partial answers). */
const WHOLE = { firstAnswerMs: Number.POSITIVE_INFINITY };
const week = () => ({ since: Date.now() - 7 * 86_400_000, until: Date.now() + 1 });

describe("facts snapshot", () => {
  it("is written after the first build and read back at the next start instead of scanning the log", async () => {
    const path = copyLog();
    const first = new DashboardData(context(path), WHOLE);
    const before = await first.overview(week());
    expect(before.totals.requests).toBe(ROWS);
    await first.close();
    expect(readFileSync(snapshotPath(path)).subarray(0, 26).toString()).toBe("triage dashboard facts v1\n");

    // Relabel a row behind the dashboard's back: a rebuild would see it, a snapshot does not.
    const db = new Database(path);
    db.prepare("UPDATE decisions SET label = 'CHANGED' WHERE id = 10").run();
    db.close();
    const second = new DashboardData(context(path), WHOLE);
    const after = await second.overview(week());
    expect(after.series.tiers.map((t) => t.name)).not.toContain("CHANGED");
    expect(after.totals).toEqual(before.totals);

    // New decisions after the snapshot are read from the log's tail.
    const log = DecisionLog.open(path);
    log.log(
      {
        requestId: "tail-1",
        label: "SIMPLE",
        modelLabel: "SIMPLE",
        confidence: 1,
        margin: 1,
        scores: { SIMPLE: 1 },
        neighbours: [],
        decidedBy: "model",
        lowConfidence: false,
        stage: "full",
        latencyMs: 1,
        modelVersion: "x",
      },
      "tail",
    );
    log.close();
    await new Promise((r) => setTimeout(r, 1100)); // past the facts' freshness window
    expect((await second.overview(week())).totals.requests).toBe(ROWS + 1);
    await second.close();
  }, 120_000);

  it("is ignored for another log at the same path, and when retention pruned past it", async () => {
    const path = copyLog();
    const a = new DashboardData(context(path), WHOLE);
    await a.overview(week());
    await a.close();
    // Rows pruned up to and past the snapshot's newest: rebuilt from what is left.
    const db = new Database(path);
    db.prepare("DELETE FROM decisions WHERE id > ?").run(ROWS - 100);
    db.close();
    const b = new DashboardData(context(path), WHOLE);
    expect((await b.overview(week())).totals.requests).toBe(ROWS - 100);
    await b.close();

    // A different log at the same path (created later): its own numbers, not the snapshot's.
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
    await new Promise((r) => setTimeout(r, 5));
    generateLog(path, { n: 500, seed: 9, since: Date.now() - 86_400_000 });
    const c = new DashboardData(context(path), WHOLE);
    expect((await c.overview(week())).totals.requests).toBe(500);
    await c.close();
  }, 120_000);

  it("never replaces a file triage did not write there, and says so once", async () => {
    const path = copyLog();
    writeFileSync(snapshotPath(path), "my notes\n");
    const errors: Error[] = [];
    const d = new DashboardData(context(path, errors), WHOLE);
    expect((await d.overview(week())).totals.requests).toBe(ROWS);
    await d.close();
    expect(readFileSync(snapshotPath(path), "utf8")).toBe("my notes\n");
    expect(errors.map((e) => e.message)).toEqual([
      `dashboard: cannot keep its cache at ${snapshotPath(path)}: ${snapshotPath(path)} exists and is not the dashboard's cache; not replacing it (the dashboard keeps its facts in memory only)`,
    ]);
    expect(existsSync(`${path}-dashboard`)).toBe(true);
  }, 120_000);
});

describe("facts snapshot of a PostgreSQL log", () => {
  const pg = testStores().find((s) => s.kind === "postgres")!;
  afterAll(() => pg.stop());

  it.skipIf(pg.skip)(
    "is kept in the cache folder, keyed by the URL without its password, and read back at the next start",
    async () => {
      const cache = tempDir("triage-cache-");
      const before = process.env.XDG_CACHE_HOME;
      process.env.XDG_CACHE_HOME = cache;
      try {
        const t = await pg.filled((path) => {
          const db = new Database(template, { readonly: true });
          db.exec(`VACUUM INTO '${path.replace(/'/g, "''")}'`);
          db.close();
        });
        const withPassword = t.location.replace("postgres://triage@", "postgres://triage:secret-pw@"); // trust auth ignores it
        const ctx = { ...context(redactUrl(withPassword)), openReader: () => PgDashboardReader.open(withPassword) };
        const first = new DashboardData(ctx, WHOLE);
        const totals = (await first.overview(week())).totals;
        expect(totals.requests).toBe(ROWS);
        const path = snapshotPathFor({ kind: "postgres", path: redactUrl(withPassword) });
        await first.close();
        expect(path.startsWith(join(cache, "triage", "dashboard-dash_"))).toBe(true);
        expect(path).not.toContain("secret");
        expect(readFileSync(path).subarray(0, 26).toString()).toBe("triage dashboard facts v1\n");

        // Relabelled behind the dashboard's back: a rebuild would see it, the snapshot does not.
        await t.sql("UPDATE decisions SET label = 'CHANGED' WHERE id = 10");
        const second = new DashboardData(ctx, WHOLE);
        const after = await second.overview(week());
        expect(after.series.tiers.map((x) => x.name)).not.toContain("CHANGED");
        expect(after.totals).toEqual(totals);
        await second.close();
        await t.log.close();
      } finally {
        if (before === undefined) delete process.env.XDG_CACHE_HOME;
        else process.env.XDG_CACHE_HOME = before;
      }
    },
    180_000,
  );
});
