/**
 * @module
 * Copies a SQLite decision log into a PostgreSQL database, ids and all, so tests and benchmarks can
 * build a big log quickly with test/helpers/dashboard-log.ts and read the very same rows from either
 * store. The database gets its schema through openDecisionLog (the real migrations); the identity
 * sequences then continue after the copied ids, so decisions logged afterwards follow them.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { openDecisionLog } from "../../src/store/index.js";

const BATCH = 1000;

async function copyTable(db: Database.Database, client: pg.Client, table: "decisions" | "feedback"): Promise<number> {
  const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
  const select = db.prepare(`SELECT ${columns.join(", ")} FROM ${table} WHERE id > ? ORDER BY id LIMIT ${BATCH}`).raw();
  let after = 0;
  let copied = 0;
  for (;;) {
    const rows = select.all(after) as unknown[][];
    if (rows.length === 0) break;
    const values = rows.map((_, i) => `(${columns.map((_, j) => `$${i * columns.length + j + 1}`).join(", ")})`).join(", ");
    await client.query(`INSERT INTO ${table} (${columns.join(", ")}) OVERRIDING SYSTEM VALUE VALUES ${values}`, rows.flat());
    after = rows[rows.length - 1][0] as number;
    copied += rows.length;
  }
  await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST(1, (SELECT COALESCE(MAX(id), 0) FROM ${table})))`);
  return copied;
}

/** Copies every decision and feedback row of the SQLite log at `path` into the (empty) database at `url`. */
export async function copyToPostgres(path: string, url: string): Promise<{ decisions: number; feedback: number }> {
  await (await openDecisionLog(url)).close(); // the schema, by the real migrations
  const db = new Database(path, { readonly: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    const decisions = await copyTable(db, client, "decisions");
    const feedback = await copyTable(db, client, "feedback");
    await client.query("COMMIT");
    await client.query("ANALYZE decisions; ANALYZE feedback");
    return { decisions, feedback };
  } finally {
    await client.end();
    db.close();
  }
}
