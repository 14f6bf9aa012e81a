/**
 * @module
 * The two databases a decision log lives in, for running the dashboard's data tests on both: a SQLite
 * file in a temp folder, and a fresh database on a throwaway PostgreSQL server (started once per file,
 * test/helpers/postgres.ts). Without PostgreSQL binaries the PostgreSQL runs skip with one line, except
 * in CI.
 */
import { join } from "node:path";
import pg from "pg";
import type { DashboardLogReader } from "../../../src/store/dashboard-queries.js";
import { DashboardReader } from "../../../src/store/dashboard-queries.js";
import { openDecisionLog, type DecisionStore } from "../../../src/store/index.js";
import { PgDashboardReader } from "../../../src/store/postgres/dashboard-queries.js";
import { types } from "../../../src/store/postgres/sql.js";
import { copyToPostgres } from "../../helpers/pg-copy.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { tempDir } from "../../helpers/tiers.js";

export interface TestLog {
  /** A file path or a postgres:// URL. */
  location: string;
  log: DecisionStore;
  reader(): Promise<DashboardLogReader>;
  /** Runs SQL on the log's database (`?` placeholders), e.g. to look behind the dashboard's back. */
  sql<T>(text: string, ...values: unknown[]): Promise<T[]>;
}

export interface TestStore {
  kind: "sqlite" | "postgres";
  /** True when this store cannot run here (PostgreSQL without binaries, outside CI). */
  skip: boolean;
  /** A new, empty log. */
  fresh(): Promise<TestLog>;
  /** Where a new log can be created (a file path in a temp folder, or the URL of a new database), created by whoever opens it. */
  location(): Promise<string>;
  /** A new log holding what `generate` writes into a SQLite file (copied, ids and all, into PostgreSQL). */
  filled(generate: (sqlitePath: string) => void): Promise<TestLog>;
  stop(): Promise<void>;
}

const pgBin = findPostgres();
let announced = false;

function sqliteStore(): TestStore {
  const at = async (location: string): Promise<TestLog> => {
    const log = await openDecisionLog(location);
    return {
      location,
      log,
      reader: async () => DashboardReader.open(location),
      sql: async <T>(text: string, ...values: unknown[]) => {
        const { default: Database } = await import("better-sqlite3");
        const db = new Database(location);
        try {
          const stmt = db.prepare(text);
          if (stmt.reader) return stmt.all(...values) as T[];
          stmt.run(...values);
          return [];
        } finally {
          db.close();
        }
      },
    };
  };
  return {
    kind: "sqlite",
    skip: false,
    fresh: () => at(join(tempDir(), "log.db")),
    location: async () => join(tempDir(), "log.db"),
    filled: (generate) => {
      const location = join(tempDir(), "log.db");
      generate(location);
      return at(location);
    },
    stop: async () => {},
  };
}

function postgresStore(): TestStore {
  let server: Promise<TestPostgres> | undefined;
  let n = 0;
  const skip = !pgBin && !process.env.CI;
  if (skip && !announced) {
    announced = true;
    console.log(PG_SKIP_REASON);
  }
  const database = async () => {
    server ??= startPostgres();
    return (await server).createDatabase(`dash_${process.pid}_${++n}`);
  };
  const at = async (location: string): Promise<TestLog> => {
    const log = await openDecisionLog(location);
    return {
      location,
      log,
      reader: () => PgDashboardReader.open(location),
      sql: async <T>(text: string, ...values: unknown[]) => {
        const client = new pg.Client({ connectionString: location, types });
        await client.connect();
        try {
          let k = 0;
          return (
            await client.query(
              text.replace(/\?/g, () => `$${++k}`),
              values,
            )
          ).rows as T[];
        } finally {
          await client.end();
        }
      },
    };
  };
  return {
    kind: "postgres",
    skip,
    fresh: async () => at(await database()),
    location: database,
    filled: async (generate) => {
      const path = join(tempDir(), "source.db");
      generate(path);
      const location = await database();
      await copyToPostgres(path, location);
      return at(location);
    },
    stop: async () => {
      (await server)?.stop();
    },
  };
}

/** Both stores, for describe.each; call stop() on each in afterAll. */
export function testStores(): TestStore[] {
  return [sqliteStore(), postgresStore()];
}
