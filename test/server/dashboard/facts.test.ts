/**
 * The dashboard's in-memory facts against a real log, SQLite file and PostgreSQL database alike:
 * incremental refresh, retention deleting the oldest rows, the memory cap, feedback that arrives after
 * its decision, and re-pricing on new prices.
 */
import { join } from "node:path";
import type { Client } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { PriceTable } from "../../../src/config/price.js";
import type { DashboardLogReader } from "../../../src/store/dashboard-queries.js";
import { Facts, LATE_WINDOW } from "../../../src/server/dashboard/facts.js";
import { computeOverview } from "../../../src/server/dashboard/overview-data.js";
import { loadSnapshot, saveSnapshot } from "../../../src/server/dashboard/snapshot.js";
import { tempDir } from "../../helpers/tiers.js";
import { makeDecision } from "../../store/make-decision.js";
import { testStores, type TestLog } from "./stores.js";

/** A refresh, and the rest of a first build (or a rebuild after new prices). */
async function whole(facts: Facts): Promise<void> {
  await facts.refresh();
  await facts.ready(Number.POSITIVE_INFINITY);
}

const range = () => ({ since: Date.now() - 3_600_000, until: Date.now() + 1 });

async function logWith(fresh: () => Promise<TestLog>, n: number): Promise<TestLog & { ids: string[] }> {
  const t = await fresh();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = makeDecision({ label: i % 4 === 0 ? "strong" : "cheap" });
    ids.push(d.requestId);
    await t.log.log(d, `q${i}`);
  }
  await t.log.flush();
  return { ...t, ids };
}

const stores = testStores();
afterAll(async () => {
  for (const s of stores) await s.stop();
});

describe.each(stores)("on $kind", (store) => {
  it.skipIf(store.skip)("follows new rows and late feedback, forgets rows retention deleted, and keeps at most maxRows", async () => {
    const { log, ids, reader: open, sql } = await logWith(store.fresh, 300);
    let prices: PriceTable = { cheap: { input: 1, output: 2 }, strong: { input: 10, output: 20 } };
    const reader = await open();
    const facts = new Facts(reader, { prices: () => prices, chunk: 64 });
    await whole(facts);
    expect(facts.size).toBe(300);

    // A call's cost for a decision already copied, and an escalation.
    await log.feedback(ids[1], { kind: "outcome", finalModel: "cheap", tokensIn: 1000, tokensOut: 1000 });
    await log.feedback(ids[2], { kind: "escalated", finalModel: "strong" });
    for (let i = 0; i < 10; i++) await log.log(makeDecision({ label: "strong" }), `new ${i}`);
    await log.flush();
    await whole(facts);
    let o = computeOverview(facts, range());
    expect(o.totals.requests).toBe(310);
    expect(o.totals.spendUsd).toBeCloseTo(0.003, 12); // 1000 in at $1/M + 1000 out at $2/M
    expect(o.totals.baselineUsd).toBeCloseTo(0.03, 12); // the same tokens at the top price
    expect(o.totals.escalation.count).toBe(1);

    // New prices re-price every row.
    prices = { cheap: { input: 2, output: 4 }, strong: { input: 10, output: 20 } };
    await whole(facts);
    o = computeOverview(facts, range());
    expect(o.totals.requests).toBe(310);
    expect(o.totals.spendUsd).toBeCloseTo(0.006, 12);

    // Retention deletes the oldest 100: the copy drops them too.
    expect(await log.prune({ maxRows: 210 })).toBe(100);
    await whole(facts);
    expect(facts.size).toBe(210);
    expect(facts.capped).toBe(false);
    expect(computeOverview(facts, range()).totals.requests).toBe(210);
    await log.close();
    await reader.close();

    // A cap keeps the newest rows only.
    const cappedReader = await open();
    const capped = new Facts(cappedReader, { prices: () => prices, maxRows: 50, chunk: 16 });
    await whole(capped);
    expect(capped.size).toBe(50);
    expect(capped.capped).toBe(true);
    expect(computeOverview(capped, range()).covered).toMatchObject({ rows: 50, capped: true, loading: null });
    const newest = (await sql<{ id: number }>("SELECT id FROM decisions ORDER BY id DESC LIMIT 50")).map((r) => r.id).reverse();
    expect(Array.from(capped.ids.subarray(capped.begin, capped.end))).toEqual(newest);
    await cappedReader.close();
  });

  it.skipIf(store.skip)("builds a fresh copy newest first: answers from the newest chunk, and counts feedback that arrives for a decision not read yet", async () => {
    const { log, ids, reader: open } = await logWith(store.fresh, 300);
    const prices: PriceTable = { cheap: { input: 1, output: 2 }, strong: { input: 10, output: 20 } };
    const reader = await open();
    const facts = new Facts(reader, { prices: () => prices, chunk: 25 });
    await facts.refresh();
    // The first chunk is read at once; the older ones follow, one per event-loop turn.
    expect(facts.size).toBe(25);
    expect(facts.complete).toBe(false);
    expect(facts.progress()).toEqual({ read: 25, of: 300 });
    expect(computeOverview(facts, range()).covered.loading).toEqual({ read: 25, of: 300 });

    // The oldest decision, still unread, is escalated and priced; a new decision arrives.
    await log.feedback(ids[0], { kind: "escalated", finalModel: "strong" });
    await log.feedback(ids[0], { kind: "outcome", finalModel: "strong", tokensIn: 1000, tokensOut: 1000 });
    await log.log(makeDecision({ label: "strong" }), "new");
    await log.flush();
    await facts.refresh();
    expect(facts.size).toBeGreaterThanOrEqual(26);
    await facts.ready(Number.POSITIVE_INFINITY);
    expect(facts.complete).toBe(true);
    const o = computeOverview(facts, range());
    expect(o.covered.loading).toBeNull();
    expect(o.totals.requests).toBe(301);
    expect(o.totals.escalation.count).toBe(1);
    expect(o.totals.spendUsd).toBeCloseTo(0.03, 12); // 1000 in at $10/M + 1000 out at $20/M
    // Row for row what a copy built after the fact holds.
    const laterReader = await open();
    const later = new Facts(laterReader, { prices: () => prices, chunk: 1000 });
    await whole(later);
    const rows = (f: Facts) =>
      Array.from(f.ids.subarray(f.begin, f.end), (id, k) => {
        const i = f.begin + k;
        const p = f.packed[i];
        // Labels are numbered in the order they were read: compare them by name.
        return [id, f.ts[i], f.labels.values[p & 0xff], f.labels.values[(p >>> 8) & 0xff], p >>> 16, f.latencyBin[i], f.margin[i], f.cost[i], f.baseline[i]];
      });
    expect(rows(facts)).toEqual(rows(later));
    await log.close();
    await reader.close();
    await laterReader.close();
  });

  it.skipIf(store.skip)("carries on a first build that failed part-way (a lost connection) at the next refresh", async () => {
    const { log, reader: open } = await logWith(store.fresh, 300);
    const reader = await open();
    // The third chunk's read fails once, as a query on a dropped connection does.
    let calls = 0;
    const flaky = new Proxy(reader, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key === "decisionFactsBetween")
          return (lo: number, hi: number) => {
            if (++calls === 3) throw new Error("connection terminated unexpectedly");
            return target.decisionFactsBetween(lo, hi);
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const errors: string[] = [];
    const facts = new Facts(flaky, { prices: () => ({}), chunk: 50, onError: (e) => void errors.push(e.message) });
    await whole(facts);
    expect(errors).toEqual(["connection terminated unexpectedly"]);
    expect(facts.complete).toBe(false);
    expect(facts.size).toBe(100);
    await whole(facts);
    expect(facts.complete).toBe(true);
    const ids = (await log.query({ limit: 1000 })).map((d) => d.id).sort((x, y) => x - y);
    expect(Array.from(facts.ids.subarray(facts.begin, facts.end))).toEqual(ids);
    await log.close();
    await reader.close();
  });
});

describe("on postgres, with writers that commit out of id order", () => {
  const pg = stores.find((s) => s.kind === "postgres")!;
  const COLUMNS = "ts, request_id, model_version, label, model_label, scores, decided_by, stage, low_confidence, fallback_used";
  /** Another writer's transaction: it inserts one decision (taking the next id) and stays open until COMMIT. */
  const openWriter = async (t: TestLog, requestId: string): Promise<Client> => {
    const { default: Pg } = await import("pg");
    const client = new Pg.Client({ connectionString: t.location });
    await client.connect();
    await client.query("BEGIN");
    await client.query(`INSERT INTO decisions (${COLUMNS}) VALUES ($1, $2, 'v1', 'strong', 'strong', '{}', 'model', 'full', 0, 0)`, [Date.now(), requestId]);
    return client;
  };
  /** `n` decisions committed at once by yet another writer, request ids `${name}1` and on. */
  const burst = (t: TestLog, name: string, n: number) =>
    t.sql(`INSERT INTO decisions (${COLUMNS}) SELECT ?, ? || g, 'v1', 'cheap', 'cheap', '{}', 'model', 'full', 0, 0 FROM generate_series(1, ?) g`, Date.now(), name, n);

  it.skipIf(pg.skip)("finds a decision that committed after a later one was read, and counts its feedback", async () => {
    const t = await pg.fresh();
    // Another writer's transaction takes an id and commits only after a later decision was committed and read.
    const slow = await openWriter(t, "slow-1");
    try {
      await t.log.log(makeDecision({ requestId: "fast-1" }), "fast");
      await t.log.flush();
      const reader = await t.reader();
      const prices: PriceTable = { cheap: { input: 1, output: 2 }, strong: { input: 10, output: 20 } };
      const facts = new Facts(reader, { prices: () => prices });
      await whole(facts);
      expect(facts.size).toBe(1);
      await slow.query("COMMIT");
      await t.log.feedback("slow-1", { kind: "outcome", finalModel: "strong", tokensIn: 1000, tokensOut: 1000 });
      await t.log.log(makeDecision({ requestId: "fast-2" }), "fast");
      await t.log.flush();
      await whole(facts);
      const ids = (await t.sql<{ id: number }>("SELECT id FROM decisions ORDER BY id")).map((r) => r.id);
      expect(Array.from(facts.ids.subarray(facts.begin, facts.end))).toEqual(ids);
      const o = computeOverview(facts, range());
      expect(o.totals.requests).toBe(3);
      expect(o.totals.spendUsd).toBeCloseTo(0.03, 12); // slow-1's call: 1000 in at $10/M + 1000 out at $20/M
      await reader.close();
    } finally {
      await slow.end();
      await t.log.close();
    }
  });

  it.skipIf(pg.skip)("finds the rows of writers that stayed open while more than LATE_WINDOW later decisions committed, across a snapshot too", async () => {
    const t = await pg.fresh();
    const logIds = async () => (await t.sql<{ id: number }>("SELECT id FROM decisions ORDER BY id")).map((r) => r.id);
    const copyIds = (f: Facts) => Array.from(f.ids.subarray(f.begin, f.end));
    const prices: PriceTable = { cheap: { input: 1, output: 2 }, strong: { input: 10, output: 20 } };
    const early = await openWriter(t, "open-from-the-start"); // id 1, open before the dashboard's first look
    let late: Client | undefined;
    const reader = await t.reader();
    const laterReader = await t.reader();
    try {
      const facts = new Facts(reader, { prices: () => prices });
      await whole(facts);
      await burst(t, "a", 3);
      await whole(facts);
      late = await openWriter(t, "opened-after-a-refresh"); // id 5, above everything read at the last refresh
      await burst(t, "b", LATE_WINDOW + 5);
      await whole(facts);
      expect(facts.size).toBe(3 + LATE_WINDOW + 5);
      await early.query("COMMIT");
      await whole(facts);
      expect(copyIds(facts)).toEqual(await logIds());
      // Saved while the second writer is still open; it commits before the copy is read back.
      const path = join(tempDir(), "facts");
      await saveSnapshot(path, await reader.identity(), facts.state());
      await late.query("COMMIT");
      const restored = new Facts(laterReader, { prices: () => prices });
      const saved = loadSnapshot(path, await laterReader.identity());
      expect(saved && restored.restore(saved)).toBe(true);
      await whole(restored);
      await whole(facts);
      const all = await logIds();
      expect(all).toHaveLength(2 + 3 + LATE_WINDOW + 5);
      expect(copyIds(facts)).toEqual(all);
      expect(copyIds(restored)).toEqual(all);
    } finally {
      await early.end();
      await late?.end();
      await reader.close();
      await laterReader.close();
      await t.log.close();
    }
  });

  it.skipIf(pg.skip)("finds the rows of a writer that closed between a refresh's reads and its look at the open writers", async () => {
    const t = await pg.fresh();
    const reader = await t.reader();
    let slow: Client | undefined;
    let beforeListing: (() => Promise<unknown>) | undefined;
    // The real reader, with a pause before it lists the open writers (where the writer commits).
    const paused: DashboardLogReader = Object.assign(Object.create(reader) as DashboardLogReader, {
      openWriters: async () => {
        await beforeListing?.();
        beforeListing = undefined;
        return (await reader.openWriters?.()) ?? [];
      },
    });
    try {
      const facts = new Facts(paused, { prices: () => ({}) });
      await burst(t, "a", 3);
      await whole(facts);
      const writer = await openWriter(t, "slow");
      slow = writer;
      await burst(t, "b", LATE_WINDOW + 5);
      beforeListing = () => writer.query("COMMIT");
      await whole(facts);
      const ids = (await t.sql<{ id: number }>("SELECT id FROM decisions ORDER BY id")).map((r) => r.id);
      expect(ids).toHaveLength(4 + LATE_WINDOW + 5);
      expect(Array.from(facts.ids.subarray(facts.begin, facts.end))).toEqual(ids);
    } finally {
      await slow?.end();
      await reader.close();
      await t.log.close();
    }
  });
});
