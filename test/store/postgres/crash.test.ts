/**
 * Crash safety of the PostgreSQL decision log with a real child process killed with SIGKILL: strict
 * durability keeps every acknowledged decision; batched loses at most the decisions of the last flush
 * interval (what the docs promise), never earlier ones.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../../helpers/postgres.js";

const child = join(dirname(fileURLToPath(import.meta.url)), "crash-child.ts");
const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

interface Acked {
  id: string;
  /** ms since epoch when the child acknowledged it (batched mode). */
  at: number;
}

/** Runs the child and SIGKILLs it once it has acknowledged `killAfter` decisions; resolves to what it acknowledged. */
function runChild(url: string, mode: "strict" | "batched", killAfter: number, interval = 50): Promise<{ acked: Acked[]; killedAt: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, url, mode, String(interval)], { stdio: ["ignore", "pipe", "pipe"] });
    const acked: Acked[] = [];
    let buffered = "";
    let stderr = "";
    let killedAt = 0;
    const timeout = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    proc.stdout.on("data", (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const strict = /^committed (r\d+)$/.exec(line);
        const batched = /^logged (\d+) (r\d+)$/.exec(line);
        if (strict) acked.push({ id: strict[1], at: 0 });
        else if (batched) acked.push({ id: batched[2], at: Number(batched[1]) });
      }
      if (acked.length >= killAfter && !killedAt) {
        killedAt = Date.now();
        proc.kill("SIGKILL");
      }
    });
    proc.on("error", reject);
    proc.on("exit", (code, signal) => {
      clearTimeout(timeout);
      if (signal !== "SIGKILL" || acked.length < killAfter) reject(new Error(`child ended by itself (code ${code}, ${acked.length} acknowledged): ${stderr}`));
      else resolve({ acked, killedAt });
    });
  });
}

async function storedIds(url: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return new Set((await client.query<{ request_id: string }>("SELECT request_id FROM decisions")).rows.map((r) => r.request_id));
  } finally {
    await client.end();
  }
}

describe.skipIf(!bin && !process.env.CI)("PostgreSQL decision log crash safety", () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(() => server?.stop());

  it("strict: every decision acknowledged before a SIGKILL is in the database", async () => {
    const url = server.createDatabase("strict");
    const { acked } = await runChild(url, "strict", 400);
    const present = await storedIds(url);
    expect(acked.filter((a) => !present.has(a.id)).map((a) => a.id)).toEqual([]);
  }, 90_000);

  it("batched: a SIGKILL loses only decisions logged within the last flush interval", async () => {
    const url = server.createDatabase("batched");
    const interval = 50;
    const { acked, killedAt } = await runChild(url, "batched", 300, interval);
    const present = await storedIds(url);
    const lost = acked.filter((a) => !present.has(a.id));
    // Batches commit whole and in order: what is stored is a prefix of what was logged, what is lost the tail.
    expect([...present].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))).toEqual(Array.from({ length: present.size }, (_, i) => `r${i}`));
    expect(present.size).toBeGreaterThan(0);
    // That tail is the queue of the last flush interval; a busy machine runs timers late, so allow slack, not unbounded loss.
    expect(lost.filter((a) => a.at < killedAt - 2000).map((a) => a.id)).toEqual([]);
  }, 90_000);
});
