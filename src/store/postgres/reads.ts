/** @module The PostgreSQL decision log's reads, feedback and deletions: the SQLite store's queries (reads.ts, feedback.ts, prune.ts) over a pool. */
import type pg from "pg";
import { TriageError } from "../../common/errors.js";
import { buildWhere } from "../filters.js";
import { feedbackParams, INSERT_FEEDBACK_SQL } from "../feedback.js";
import type { PruneOptions } from "../prune.js";
import { fromRow, type DecisionRow } from "../rows.js";
import { CostTally, DecisionTally, STATS_DECISIONS_SQL, statsCallsSql, statsFeedbackSql, type StatsCallRow, type StatsDecisionRow, type StatsOptions } from "../stats.js";
import type { DecisionFilters, FeedbackInput, FeedbackKind, LogStats, LoggedDecision } from "../types.js";
import { checkout, numbered, storable } from "./sql.js";

type Queryable = pg.Pool | pg.ClientBase;

/** Up to `limit` matching decisions after (or, in desc order, before) the row id `cursor`. */
export async function readPagePg(db: Queryable, columns: string, filters: DecisionFilters, limit: number | undefined, cursor?: number): Promise<LoggedDecision[]> {
  const desc = filters.order === "desc";
  const where = buildWhere(filters, desc ? undefined : cursor, desc ? cursor : undefined);
  const sql = `SELECT ${columns} FROM decisions d ${where.sql} ORDER BY d.id ${desc ? "DESC" : "ASC"}${limit !== undefined ? " LIMIT ?" : ""}`;
  const { rows } = await db.query<DecisionRow>(numbered(sql), [...where.params, ...(limit !== undefined ? [limit] : [])]);
  return rows.map(fromRow);
}

export async function countPg(db: Queryable, filters: Omit<DecisionFilters, "limit" | "order">): Promise<number> {
  const where = buildWhere(filters);
  const { rows } = await db.query<{ n: number }>(numbered(`SELECT COUNT(*) AS n FROM decisions d ${where.sql}`), where.params);
  return rows[0].n;
}

/** Rows fetched per round trip when statistics walk the whole log. */
const STATS_PAGE = 20_000;

/** stats() with the SQLite store's queries and tallies; decisions are read in pages by id, so memory stays bounded. */
export async function statsPg(db: Queryable, options: StatsOptions): Promise<LogStats> {
  const where = buildWhere({ since: options.since, until: options.until });
  const tally = new DecisionTally();
  let after = 0;
  for (;;) {
    const paged = buildWhere({ since: options.since, until: options.until }, after);
    const sql = numbered(`${STATS_DECISIONS_SQL.replace("SELECT ", "SELECT d.id, ")} ${paged.sql} ORDER BY d.id LIMIT ${STATS_PAGE}`);
    const { rows } = await db.query<unknown[]>({ text: sql, values: paged.params, rowMode: "array" });
    for (const r of rows) tally.add(r.slice(1) as StatsDecisionRow);
    if (rows.length < STATS_PAGE) break;
    after = rows[rows.length - 1][0] as number;
  }
  const feedback = await db.query<{ kind: FeedbackKind; n: number }>(numbered(statsFeedbackSql(where.sql)), where.params);
  const cost = new CostTally(options.prices);
  const calls = await db.query<StatsCallRow>({ text: numbered(statsCallsSql(where.sql)), values: where.params, rowMode: "array" });
  for (const r of calls.rows) cost.add(r);
  return tally.result(feedback.rows, cost.result());
}

/** Adds checked feedback to the decision logged as `requestId` (which must exist); returns the feedback row id. */
export async function insertFeedbackPg(db: Queryable, where: string, requestId: string, f: FeedbackInput): Promise<number> {
  const unknown = () => new TriageError(`feedback: unknown request id "${requestId}" (no decision with that id in ${where})`, "E_UNKNOWN_REQUEST");
  const known = await db.query("SELECT 1 FROM decisions WHERE request_id = $1", [requestId]);
  if (known.rowCount === 0) throw unknown();
  try {
    const { rows } = await db.query<{ id: number }>(`${numbered(INSERT_FEEDBACK_SQL)} RETURNING id`, feedbackParams(requestId, f).map(storable));
    return rows[0].id;
  } catch (err) {
    // Pruned between the check and the insert.
    if ((err as { code?: string }).code === "23503") throw unknown();
    throw err;
  }
}

export async function deleteFeedbackPg(db: Queryable, where: string, id: number): Promise<void> {
  if (!Number.isSafeInteger(id) || id < 1) throw new TriageError(`${where}: feedback id must be a positive integer, got ${id}`);
  const r = await db.query("DELETE FROM feedback WHERE id = $1", [id]);
  if (r.rowCount !== 1) throw new TriageError(`${where}: feedback ${id} not found, nothing deleted`);
}

/** prune.ts's deletions in one transaction (options checked by the caller); returns decisions deleted. */
export async function prunePg(pool: pg.Pool, options: PruneOptions): Promise<number> {
  const { olderThanMs, maxRows, limit } = options;
  const now = options.now ?? Date.now();
  const client = await checkout(pool);
  try {
    await client.query("BEGIN");
    let deleted = 0;
    if (olderThanMs !== undefined)
      deleted +=
        (await client.query("DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE ts < $1 ORDER BY ts LIMIT $2)", [now - olderThanMs, limit ?? null])).rowCount ?? 0; // LIMIT NULL: no limit
    const left = limit === undefined ? Infinity : limit - deleted;
    if (maxRows !== undefined && left > 0) {
      const range = await client.query<{ lo: number | null; hi: number | null }>("SELECT MIN(id) AS lo, MAX(id) AS hi FROM decisions");
      const { lo, hi } = range.rows[0];
      if (lo !== null && hi !== null && hi - lo + 1 > maxRows) {
        const n = (await client.query<{ n: number }>("SELECT COUNT(*) AS n FROM decisions")).rows[0].n;
        const surplus = Math.max(0, n - maxRows);
        if (surplus > 0)
          deleted += (await client.query("DELETE FROM decisions WHERE id IN (SELECT id FROM decisions ORDER BY id LIMIT $1)", [Math.min(surplus, left)])).rowCount ?? 0;
      }
    }
    await client.query("COMMIT");
    return deleted;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
