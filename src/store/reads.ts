/** @module The decision log's reads: pages of decisions with their feedback (keyset pagination) and counts. */
import type Database from "better-sqlite3";
import { buildWhere } from "./filters.js";
import { fromRow, type DecisionRow } from "./rows.js";
import type { DecisionFilters, LoggedDecision } from "./types.js";

/** Up to `limit` matching decisions after (or, in desc order, before) the row id `cursor`. */
export function readPage(db: Database.Database, columns: string, filters: DecisionFilters, limit: number | undefined, cursor?: number): LoggedDecision[] {
  const desc = filters.order === "desc";
  const where = buildWhere(filters, desc ? undefined : cursor, desc ? cursor : undefined);
  const rows = db
    .prepare(`SELECT ${columns} FROM decisions d ${where.sql} ORDER BY d.id ${desc ? "DESC" : "ASC"}${limit !== undefined ? " LIMIT ?" : ""}`)
    .all(...where.params, ...(limit !== undefined ? [limit] : [])) as DecisionRow[];
  return rows.map(fromRow);
}

export function countDecisions(db: Database.Database, filters: Omit<DecisionFilters, "limit" | "order">): number {
  const where = buildWhere(filters);
  return (db.prepare(`SELECT COUNT(*) AS n FROM decisions d ${where.sql}`).get(...where.params) as { n: number }).n;
}
