/**
 * Strict durability in the server: an answer never leaves without its committed decision. When the log
 * cannot commit, the caller gets a 503 instead of an answer whose decision would be missing.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Router } from "../../src/router/router.js";
import { DecisionLog } from "../../src/store/index.js";
import { trainTiers } from "../helpers/tiers.js";
import { loadRouter, postJson, startServer, takeServerErrors } from "./setup.js";
import { tempDir } from "../helpers/temp.js";

let router: Router;

beforeAll(async () => {
  router = await loadRouter((await trainTiers(20)).dir);
});

afterAll(async () => {
  await router?.close();
});

describe("strict decision log behind /v1/route", () => {
  it("answers 503 while the log cannot commit, and 200 with the row committed once it can", async () => {
    const path = join(tempDir("triage-strict-"), "log.db");
    const log = DecisionLog.open(path, { durability: "strict", busyTimeoutMs: 0 });
    const r = await startServer({ model: router, config: { reload: { watch: false, intervalMs: 1000 } }, log });
    const other = new Database(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      const refused = await postJson(`${r.url}/v1/route`, JSON.stringify({ text: "what is two plus two?" }));
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("log_unavailable");
      expect(takeServerErrors().map((e) => e.message)).toEqual([expect.stringMatching(/database is locked/)]);
      other.exec("ROLLBACK");

      const ok = await postJson(`${r.url}/v1/route`, JSON.stringify({ text: "prove that there are infinitely many primes" }));
      expect(ok.status).toBe(200);
      const { requestId } = (await ok.json()) as { requestId: string };
      const row = other.prepare("SELECT COUNT(*) AS n FROM decisions WHERE request_id = ?").get(requestId) as { n: number };
      expect(row.n).toBe(1);
    } finally {
      other.close();
      await r.close();
      log.close();
    }
  });
});
