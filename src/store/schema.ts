import Database from "better-sqlite3";
import { TriageError } from "../common/errors.js";

/** Written into the SQLite header (PRAGMA application_id) so a decision log can be told from other databases. */
export const APPLICATION_ID = 0x54524c47; // "TRLG"

interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Append-only: never edit a released migration, add the next number. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "decisions and feedback",
    sql: `
      CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        request_id TEXT NOT NULL UNIQUE,
        model_version TEXT NOT NULL,
        text TEXT,
        text_hash TEXT,
        label TEXT NOT NULL,
        model_label TEXT NOT NULL,
        confidence REAL,
        margin REAL,
        scores TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        stage TEXT NOT NULL,
        low_confidence INTEGER NOT NULL CHECK (low_confidence IN (0, 1)),
        fallback_used INTEGER NOT NULL CHECK (fallback_used IN (0, 1)),
        fallback_label TEXT,
        fallback_error TEXT,
        fallback_latency_ms REAL,
        latency_ms REAL,
        tags TEXT
      );
      CREATE INDEX decisions_ts ON decisions (ts);
      CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES decisions (request_id) ON DELETE CASCADE,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('label', 'thumbs', 'escalated', 'outcome')),
        human_label TEXT,
        thumbs INTEGER CHECK (thumbs IN (-1, 1)),
        final_model TEXT,
        tokens_in INTEGER,
        tokens_out INTEGER,
        cost_usd REAL,
        note TEXT
      );
      CREATE INDEX feedback_request_id ON feedback (request_id);
    `,
  },
  {
    version: 2,
    description: "text_length: texts are stored cut to a cap, with the whole text's length and hash",
    // Rows logged before keep their full text; their length stays NULL (not recorded then).
    sql: "ALTER TABLE decisions ADD COLUMN text_length INTEGER;",
  },
  {
    version: 3,
    description: "conversation, sticky: the conversation a decision belongs to, and whether its label was kept from an earlier turn",
    // Rows logged before have no conversation (NULL).
    sql: "ALTER TABLE decisions ADD COLUMN conversation TEXT; ALTER TABLE decisions ADD COLUMN sticky INTEGER CHECK (sticky IN (0, 1));",
  },
  {
    version: 4,
    description: "feedback score: a per-model outcome in 0..1 (explicit scores, quality gates), kind 'score'",
    // SQLite cannot widen a CHECK in place: the table is rebuilt with every row and id kept.
    sql: `
      CREATE TABLE feedback_v4 (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES decisions (request_id) ON DELETE CASCADE,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('label', 'thumbs', 'escalated', 'outcome', 'score')),
        human_label TEXT,
        thumbs INTEGER CHECK (thumbs IN (-1, 1)),
        final_model TEXT,
        tokens_in INTEGER,
        tokens_out INTEGER,
        cost_usd REAL,
        note TEXT,
        score REAL CHECK (score IS NULL OR (score >= 0 AND score <= 1))
      );
      INSERT INTO feedback_v4 (id, request_id, ts, kind, human_label, thumbs, final_model, tokens_in, tokens_out, cost_usd, note)
        SELECT id, request_id, ts, kind, human_label, thumbs, final_model, tokens_in, tokens_out, cost_usd, note FROM feedback;
      DROP TABLE feedback;
      ALTER TABLE feedback_v4 RENAME TO feedback;
      CREATE INDEX feedback_request_id ON feedback (request_id);
    `,
  },
  {
    version: 5,
    description: "dial: an outcome decision's cost-quality dial as JSON (its setting, the rule's setting, and whether the request set it)",
    // Tier decisions and rows logged before have none (NULL).
    sql: "ALTER TABLE decisions ADD COLUMN dial TEXT;",
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Read-only look at an existing file before anything writes to it: throws a TriageError when it is not
 * a SQLite database, is another application's database, or has a newer schema than this build knows.
 * Returns the schema version found (0 for an empty database).
 */
export function inspectExistingLog(path: string): number {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const appId = db.pragma("application_id", { simple: true }) as number;
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    if (appId === 0 && tables.length === 0) return 0;
    if (appId !== APPLICATION_ID || !tables.includes("schema_version")) {
      const what = tables.length ? `its tables: ${tables.slice(0, 8).join(", ")}` : `application_id ${appId}`;
      throw new TriageError(`${path} is a SQLite database but not a triage decision log (${what}); refusing to touch it`, "E_NOT_A_LOG");
    }
    const version = currentVersion(db);
    if (version > LATEST_SCHEMA_VERSION)
      throw new TriageError(`${path} has decision-log schema version ${version}, newer than this triage understands (${LATEST_SCHEMA_VERSION}); upgrade triage`, "E_NEWER_SCHEMA");
    return version;
  } catch (err) {
    if (err instanceof TriageError) throw err;
    const code = (err as { code?: string }).code;
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT")
      throw new TriageError(`${path} is not a SQLite database (so not a triage decision log); refusing to touch it`, "E_NOT_A_LOG");
    throw new TriageError(`${path}: cannot open as a decision log: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/** The schema version of an open log (0 when it has none yet). */
export function currentSchemaVersion(db: Database.Database): number {
  const initialised = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get() !== undefined;
  return initialised ? currentVersion(db) : 0;
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies the migrations the database does not have yet, each in its own transaction. */
export function migrate(db: Database.Database): number {
  const from = currentSchemaVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    // Version table, tables and application_id in one transaction: a crash leaves the file as it was.
    db.transaction(() => {
      db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL)");
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)").run(m.version, Date.now(), m.description);
      db.pragma(`application_id = ${APPLICATION_ID}`);
    })();
  }
  return currentVersion(db);
}
