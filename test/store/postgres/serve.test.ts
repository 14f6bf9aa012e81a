import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type ListeningProcess, startListening } from "../../helpers/listening.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";
import { tempDir, trainTiers } from "../../helpers/tiers.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

type Served = ListeningProcess;

describe.skipIf(!bin && !process.env.CI)("triage serve with a PostgreSQL decision log", () => {
  let server: TestPostgres;
  let work: string;
  let model: string;
  beforeAll(async () => {
    server = await startPostgres();
    work = tempDir("triage-serve-pg-");
    model = (await trainTiers(6, { out: join(work, "model") })).dir;
  }, 180_000);
  afterAll(() => {
    server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function serve(name: string, config: object, args: string[]): Promise<Served> {
    const configPath = join(work, `${name}.json`);
    writeFileSync(configPath, JSON.stringify({ reload: { watch: false }, ...config }));
    // One process: the kill -9 below must hit the process holding the log, not a primary over workers.
    return startListening(["serve", "--model", model, "--workers", "1", "--port", "0", "--host", "127.0.0.1", "--config", configPath, ...args], { TRIAGE_API_KEYS: "" });
  }

  const post = (url: string, body: object, requestId?: string) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(requestId ? { "x-request-id": requestId } : {}) }, body: JSON.stringify(body) });

  async function route(url: string, requestId: string): Promise<void> {
    const res = await post(`${url}/v1/route`, { text: `question ${requestId}: how do I sort a list?` }, requestId);
    expect(res.status).toBe(200);
  }

  async function rows(url: string): Promise<{ ids: string[]; feedback: number }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const ids = (await client.query<{ request_id: string }>("SELECT request_id FROM decisions ORDER BY id")).rows.map((r) => r.request_id);
      const feedback = Number((await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM feedback")).rows[0].n);
      return { ids, feedback };
    } finally {
      await client.end();
    }
  }

  it("a database that stops answering cannot hold shutdown: SIGTERM still ends the process, saying what was left", async () => {
    const db = server.createDatabase("frozen");
    const s = await serve("frozen", { drainTimeoutMs: 200, log: { path: db, flushIntervalMs: 600_000, batchSize: 10_000 } }, []);
    for (let i = 0; i < 3; i++) await route(s.url, `f${i}`);
    // Frozen, not gone: connections stay open and nothing answers, as behind a dead network path.
    const pids = server.pids();
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    // Also when the test fails by timing out (a hung shutdown): thaw the database, end the server.
    onTestFinished(() => {
      for (const pid of pids) process.kill(pid, "SIGCONT");
      s.child.kill("SIGKILL");
    });
    s.child.kill("SIGTERM");
    expect(await s.exited).toEqual({ code: 1, signal: null });
    expect(s.stderr()).toMatch(/shutdown did not finish 10000 ms after the drain timeout; exiting with work unfinished/);
  }, 120_000);

  it("SIGTERM writes every queued decision before exiting", async () => {
    const db = server.createDatabase("term");
    // A flush interval far longer than the test: only the shutdown can write these rows.
    const s = await serve("term", { log: { path: db, flushIntervalMs: 600_000, batchSize: 10_000 } }, []);
    for (let i = 0; i < 5; i++) await route(s.url, `t${i}`);
    expect((await rows(db)).ids).toEqual([]);
    s.child.kill("SIGTERM");
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect((await rows(db)).ids).toEqual(["t0", "t1", "t2", "t3", "t4"]);
  }, 120_000);

  it("strict: a kill -9 right after the answers leaves their decisions and feedback in the database", async () => {
    const db = server.createDatabase("strict");
    const s = await serve("strict", { log: { flushIntervalMs: 600_000, batchSize: 10_000 } }, ["--log-db", db, "--log-durability", "strict"]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => route(s.url, `s${i}`)));
    const fb = await post(`${s.url}/v1/feedback`, { requestId: "s3", label: "COMPLEX" });
    expect(fb.status).toBe(200);
    expect(await fb.json()).toMatchObject({ requestId: "s3", kind: "label", humanLabel: "COMPLEX" });
    const stats = (await (await fetch(`${s.url}/v1/stats`)).json()) as { log: { count: number; feedback: { label: number } } };
    expect(stats.log).toMatchObject({ count: 10, feedback: { label: 1 } });
    s.child.kill("SIGKILL");
    expect(await s.exited).toMatchObject({ signal: "SIGKILL" });
    const after = await rows(db);
    expect([...after.ids].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).sort());
    expect(after.feedback).toBe(1);
  }, 120_000);

  it("strict: no answer leaves while its row cannot commit", async () => {
    const db = server.createDatabase("held");
    const s = await serve("held", {}, ["--log-db", db, "--log-durability", "strict"]);
    const locker = new pg.Client({ connectionString: db });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE decisions IN EXCLUSIVE MODE"); // INSERTs wait, reads do not
      let answered = false;
      const pending = post(`${s.url}/v1/route`, { text: "what is two plus two?" }, "held-1").then(
        () => (answered = true),
        () => "connection lost",
      );
      // Wait until the server's INSERT is queued behind the lock.
      for (let i = 0; i < 200; i++) {
        const { rows } = await locker.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted");
        if (rows[0].n !== "0") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      s.child.kill("SIGKILL");
      await s.exited;
      expect(await pending).toBe("connection lost");
      await locker.query("ROLLBACK");
      expect((await rows(db)).ids).toEqual([]);
    } finally {
      await locker.end();
    }
  }, 120_000);
});
