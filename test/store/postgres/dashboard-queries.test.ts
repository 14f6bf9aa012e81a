/**
 * The dashboard's PostgreSQL reads against the SQLite ones on the very same log (copied ids and all):
 * every read answers alike, the decisions pages (filters, search, caller tags, feedback, time range,
 * cursor) page through the same rows, and a page whose time budget ends the scan says so and resumes
 * from its cursor. The reader's sessions are read-only, and a database without a log is one line.
 */
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardReader, type DashboardLogReader, type DecisionPageQuery } from "../../../src/store/dashboard-queries.js";
import { PgDashboardReader } from "../../../src/store/postgres/dashboard-queries.js";
import { generateLog } from "../../helpers/dashboard-log.js";
import { copyToPostgres } from "../../helpers/pg-copy.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { tempDir } from "../../helpers/tiers.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

const ROWS = 45_000; // more than two of the page walk's 20,000-id chunks

describe.skipIf(!bin && !process.env.CI)("PgDashboardReader against DashboardReader on the same log", () => {
  let server: TestPostgres;
  let url: string;
  let sqlite: DashboardReader;
  let postgres: PgDashboardReader;
  let oldest: { requestId: string; text: string };

  beforeAll(async () => {
    server = await startPostgres();
    const path = join(tempDir(), "log.db");
    const until = Date.now() - 60_000;
    generateLog(path, { n: ROWS, seed: 4, since: until - 2 * 86_400_000, until });
    url = server.createDatabase("reads");
    await copyToPostgres(path, url);
    sqlite = DashboardReader.open(path);
    postgres = await PgDashboardReader.open(url);
    const first = sqlite.decisionFacts(0, 1)[0];
    const row = (await postgres.newest(ROWS)).at(-1)!;
    expect(row.id).toBe(first[0]);
    oldest = { requestId: row.requestId, text: row.text! };
  }, 240_000);

  afterAll(async () => {
    sqlite?.close();
    await postgres?.close();
    server?.stop();
  });

  it("answers every read alike", async () => {
    const { min, max } = sqlite.idRange();
    expect(await postgres.idRange()).toEqual({ min, max });
    expect(await postgres.tsOf(max!)).toBe(sqlite.tsOf(max!));
    expect(await postgres.tsOf(max! + 1)).toBeUndefined();
    expect(await postgres.identity()).toMatch(/^created \d+$/);
    expect(await postgres.decisionFacts(100, 3000)).toEqual(sqlite.decisionFacts(100, 3000));
    expect(await postgres.decisionFactsBetween(min! + 5000, min! + 7000)).toEqual(sqlite.decisionFactsBetween(min! + 5000, min! + 7000));
    const upTo = sqlite.maxFeedbackId();
    expect(await postgres.maxFeedbackId()).toBe(upTo);
    expect(await postgres.callFacts(0, 5000)).toEqual(sqlite.callFacts(0, 5000));
    expect(await postgres.callFactsBetween(min!, min! + 10_000, upTo - 100)).toEqual(sqlite.callFactsBetween(min!, min! + 10_000, upTo - 100));
    expect(await postgres.decision(oldest.requestId)).toEqual(sqlite.decision(oldest.requestId));
    expect(await postgres.decision("no-such-request")).toBeUndefined();
    expect(await postgres.newest(40)).toEqual(sqlite.newest(40));
    expect(await postgres.labelsSince(0)).toEqual(sqlite.labelsSince(0));
  });

  /** Every page of a query, following the cursor; [] when the first page is empty. */
  async function pages(reader: DashboardLogReader, q: Omit<DecisionPageQuery, "limit">): Promise<number[][]> {
    const out: number[][] = [];
    let before: number | undefined;
    for (let i = 0; i < 50; i++) {
      const p = await reader.page({ ...q, limit: 100, budgetMs: 60_000, ...(before !== undefined ? { before } : {}) });
      expect(p.partial).toBe(false);
      if (p.rows.length) out.push(p.rows.map((r) => r.id));
      if (p.older === null) return out;
      before = p.older;
    }
    return out;
  }

  it("pages the same rows for every filter, search and cursor", async () => {
    const { max } = sqlite.idRange();
    const day = Date.now() - 86_400_000;
    const word = oldest.text.split(/\s+/)[2];
    const queries: Array<Omit<DecisionPageQuery, "limit">> = [
      { label: "FRONTIER", stage: "full" },
      { decidedBy: "escalate", lowConfidence: true },
      { feedback: "escalated" },
      { feedback: "none", since: day },
      { feedback: "outcome", until: day },
      { tag: { key: "user", value: "u42" } },
      { tag: { key: "feature", value: "support" }, since: day - 3_600_000, until: day },
      { search: oldest.text.slice(0, 30) },
      { search: word.toUpperCase(), label: "SIMPLE" }, // SQLite's LIKE ignores case: so does PostgreSQL's search
      { search: oldest.requestId.slice(0, 12) },
      { search: "100%_done" }, // LIKE's wildcards are matched as themselves
      { before: max! - 30_000, stage: "rule" },
    ];
    let found = 0;
    for (const q of queries) {
      const expected = await pages(sqlite, q);
      expect(await pages(postgres, q), JSON.stringify(q)).toEqual(expected);
      found += expected.flat().length;
    }
    expect(found).toBeGreaterThan(10_000); // the queries find rows (up to 5,000 each here), not just agree on none
    expect((await pages(postgres, { search: oldest.text.slice(0, 30) })).flat()).toContain(sqlite.decisionFacts(0, 1)[0][0]);
  });

  it("stops a scan at its time budget, says where, and resumes from there to the same rows", async () => {
    for (const reader of [sqlite, postgres] as DashboardLogReader[]) {
      // Nothing but the oldest decision matches: with no budget, each page scans one chunk and says it is partial.
      const q = { search: oldest.requestId, limit: 50, budgetMs: 0 };
      const first = await reader.page(q);
      expect(first).toMatchObject({ rows: [], partial: true });
      expect(first.scanned).toBe(20_000);
      let page = first;
      const seen: string[] = [];
      for (let i = 0; i < 10 && page.older !== null; i++) {
        page = await reader.page({ ...q, before: page.older });
        seen.push(...page.rows.map((r) => r.requestId));
      }
      expect(seen).toEqual([oldest.requestId]);
      expect(page).toMatchObject({ older: null, partial: false });
    }
  });

  it("reads on read-only sessions, and refuses a database without a log in one line", async () => {
    // The reader's own connections cannot write.
    const pool = (postgres as unknown as { pool: pg.Pool }).pool;
    await expect(pool.query("DELETE FROM feedback")).rejects.toThrow(/read-only transaction/);
    const empty = server.createDatabase("empty");
    await expect(PgDashboardReader.open(empty)).rejects.toThrow(`${empty}: no decision log there (the dashboard reads an existing log; \`triage serve --log-db\` writes one)`);
  });
});
