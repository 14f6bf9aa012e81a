/**
 * @module PostgreSQL spellings of the decision log's SQL: `?` placeholders become `$1, $2, …`, so the
 * filters (filters.ts) and statistics queries (stats.ts) are the very ones SQLite runs; the columns of
 * a LoggedDecision, with its feedback as one JSON array; values made storable (PostgreSQL text
 * cannot hold U+0000, and SQLite stores NaN as NULL); BIGINTs read as numbers; and checking a connection
 * out of the pool.
 */
import pg from "pg";
import { decisionFields, feedbackFields } from "../rows.js";

/** BIGINT (ids, ms timestamps, counts) as a number: every value the log holds is a safe integer. */
const INT8_OID = 20;
export const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * A pooled connection with an 'error' listener while it is checked out: pg emits a lost connection
 * there as well as rejecting the query under way, and an unheard 'error' would end the process.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  const ignore = () => {};
  client.on("error", ignore);
  const release = client.release.bind(client);
  client.release = (err?: Error | boolean) => {
    client.off("error", ignore);
    release(err);
  };
  return client;
}

/** Numbers the `?` placeholders (the store's SQL has no `?` inside literals). */
export function numbered(sql: string, offset = 0): string {
  let n = offset;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The same columns as rows.ts's decisionColumns, feedback aggregated with PostgreSQL's JSON functions. */
export const pgDecisionColumns = (schemaVersion: number) => `
  ${decisionFields(schemaVersion)},
  COALESCE((SELECT json_agg(json_build_object(${feedbackFields(schemaVersion)}) ORDER BY f.id)
   FROM feedback f WHERE f.request_id = d.request_id)::text, '[]') AS feedback`;

/** A parameter as PostgreSQL can store it and as SQLite would return it: NUL -> U+FFFD, NaN -> NULL. */
export function storable<T>(value: T): T | null {
  if (typeof value === "string") return (value.includes("\0") ? value.replace(/\0/g, "\uFFFD") : value) as T;
  if (typeof value === "number" && Number.isNaN(value)) return null;
  return value;
}
