/**
 * @module The PostgreSQL decision log's schema: the same migrations as SQLite's (schema.ts), numbered
 * and described alike, in PostgreSQL's dialect, applied under an advisory lock so that several servers
 * starting at once migrate it once. A database whose log is newer than this build is refused.
 */
import type pg from "pg";
import { TriageError } from "../../common/errors.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS as SQLITE_MIGRATIONS } from "../schema.js";

/** Same numbers and descriptions as the SQLite migrations; request_id compares bytewise (COLLATE "C"), as in SQLite. */
export const PG_MIGRATIONS: readonly { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: SQLITE_MIGRATIONS[0].description,
    sql: `
      CREATE TABLE decisions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ts BIGINT NOT NULL,
        request_id TEXT COLLATE "C" NOT NULL UNIQUE,
        model_version TEXT NOT NULL,
        text TEXT,
        text_hash TEXT,
        label TEXT NOT NULL,
        model_label TEXT NOT NULL,
        confidence DOUBLE PRECISION,
        margin DOUBLE PRECISION,
        scores TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        stage TEXT NOT NULL,
        low_confidence SMALLINT NOT NULL CHECK (low_confidence IN (0, 1)),
        fallback_used SMALLINT NOT NULL CHECK (fallback_used IN (0, 1)),
        fallback_label TEXT,
        fallback_error TEXT,
        fallback_latency_ms DOUBLE PRECISION,
        latency_ms DOUBLE PRECISION,
        tags TEXT
      );
      CREATE INDEX decisions_ts ON decisions (ts);
      CREATE TABLE feedback (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id TEXT COLLATE "C" NOT NULL REFERENCES decisions (request_id) ON DELETE CASCADE,
        ts BIGINT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('label', 'thumbs', 'escalated', 'outcome')),
        human_label TEXT,
        thumbs SMALLINT CHECK (thumbs IN (-1, 1)),
        final_model TEXT,
        tokens_in BIGINT,
        tokens_out BIGINT,
        cost_usd DOUBLE PRECISION,
        note TEXT
      );
      CREATE INDEX feedback_request_id ON feedback (request_id);
    `,
  },
  {
    version: 2,
    description: SQLITE_MIGRATIONS[1].description,
    sql: "ALTER TABLE decisions ADD COLUMN text_length BIGINT;",
  },
  {
    version: 3,
    description: SQLITE_MIGRATIONS[2].description,
    sql: "ALTER TABLE decisions ADD COLUMN conversation TEXT; ALTER TABLE decisions ADD COLUMN sticky SMALLINT CHECK (sticky IN (0, 1));",
  },
  {
    version: 4,
    description: SQLITE_MIGRATIONS[3].description,
    // PostgreSQL widens the CHECK in place (its name is the one PostgreSQL gave the column constraint).
    sql: `
      ALTER TABLE feedback DROP CONSTRAINT feedback_kind_check;
      ALTER TABLE feedback ADD CONSTRAINT feedback_kind_check CHECK (kind IN ('label', 'thumbs', 'escalated', 'outcome', 'score'));
      ALTER TABLE feedback ADD COLUMN score DOUBLE PRECISION CHECK (score IS NULL OR (score >= 0 AND score <= 1));
    `,
  },
  {
    version: 5,
    description: SQLITE_MIGRATIONS[4].description,
    sql: "ALTER TABLE decisions ADD COLUMN dial TEXT;",
  },
];

/** Any constant: the advisory lock that serialises migrations of one database. */
const MIGRATION_LOCK = 0x54524c47;

/**
 * The schema version in the connection's search path: 0 when there is no log yet. Throws a TriageError
 * when the tables look like something else's, or the log is newer than this build.
 */
export async function inspectPgLog(client: pg.ClientBase, where: string): Promise<number> {
  const { rows } = await client.query<{ versions: string | null; decisions: string | null }>(
    "SELECT to_regclass('schema_version')::text AS versions, to_regclass('decisions')::text AS decisions",
  );
  if (rows[0].versions === null) {
    if (rows[0].decisions !== null) throw new TriageError(`${where} has a decisions table but no schema_version: not a triage decision log; refusing to touch it`, "E_NOT_A_LOG");
    return 0;
  }
  const v = await client.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_version");
  const version = v.rows[0].v ?? 0;
  if (version > LATEST_SCHEMA_VERSION)
    throw new TriageError(`${where} has decision-log schema version ${version}, newer than this triage understands (${LATEST_SCHEMA_VERSION}); upgrade triage`, "E_NEWER_SCHEMA");
  return version;
}

/** Applies the migrations the database lacks, all in one transaction under the lock; returns the version. */
export async function migratePg(client: pg.ClientBase, where: string): Promise<number> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    // Checked again under the lock: another process may have migrated meanwhile.
    const from = await inspectPgLog(client, where);
    for (const m of PG_MIGRATIONS) {
      if (m.version <= from) continue;
      await client.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL, description TEXT NOT NULL)");
      await client.query(m.sql);
      await client.query("INSERT INTO schema_version (version, applied_at, description) VALUES ($1, $2, $3)", [m.version, Date.now(), m.description]);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
  return LATEST_SCHEMA_VERSION;
}
