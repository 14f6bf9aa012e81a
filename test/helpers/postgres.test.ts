/**
 * The throwaway PostgreSQL the store and registry tests run against: it starts on loopback, takes a
 * connection from the `pg` client, makes further databases, and leaves nothing behind.
 */
import { existsSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PG_SKIP_REASON, findPostgres, startPostgres } from "./postgres.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

describe.skipIf(!bin && !process.env.CI)("test PostgreSQL", () => {
  it("starts on 127.0.0.1, serves queries and a second database, and is removed by stop()", async () => {
    const server = await startPostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/triage@127\.0\.0\.1:\d+\/triage$/);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query<{ n: number }>("select 40 + 2 as n");
      expect(rows[0].n).toBe(42);
      await client.end();
      const other = new pg.Client({ connectionString: server.createDatabase("second") });
      await other.connect();
      expect((await other.query<{ db: string }>("select current_database() as db")).rows[0].db).toBe("second");
      await other.end();
    } finally {
      server.stop();
    }
    const gone = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
    await expect(gone.connect()).rejects.toThrow();
    expect(existsSync(server.dir)).toBe(false);
  });
});
