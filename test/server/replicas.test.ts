/**
 * Three real `triage serve` processes on loopback sharing one PostgreSQL model registry: a promote through
 * one replica's dashboard, and a `triage rollback`, are served by every replica without a restart.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PgModelRegistry } from "../../src/model/registry-pg.js";
import type { TrainResult } from "../../src/train/train.js";
import { CLI } from "../helpers/cli.js";
import { type ListeningProcess, startListening } from "../helpers/listening.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { tempDir, trainTiers } from "../helpers/tiers.js";
import { login } from "./dashboard/helpers.js";

const available = !!findPostgres() || !!process.env.CI;
if (!available) console.log(PG_SKIP_REASON);

const ADMIN_KEY = "replica-test-admin-key";

type Replica = ListeningProcess;

const serveReplica = (registryUrl: string, cacheDir: string): Promise<Replica> =>
  startListening(["serve", "--registry", registryUrl, "--registry-cache", cacheDir, "--port", "0", "--host", "127.0.0.1"], { TRIAGE_API_KEYS: "", TRIAGE_ADMIN_KEYS: ADMIN_KEY });

async function servedVersion(url: string): Promise<string> {
  const res = await fetch(`${url}/healthz`);
  return ((await res.json()) as { modelVersion: string }).modelVersion;
}

/** Waits (bounded) until every replica serves `version`; returns each one's delay in ms from `since`. */
async function allServe(replicas: readonly Replica[], version: string, since: number): Promise<number[]> {
  return Promise.all(
    replicas.map(async (r) => {
      await vi.waitFor(async () => expect(await servedVersion(r.url)).toBe(version), { timeout: 20_000, interval: 25 });
      return Math.round(performance.now() - since);
    }),
  );
}

describe.skipIf(!available)("replicas sharing a PostgreSQL registry", () => {
  let pg: TestPostgres;
  let first: TrainResult;
  let second: TrainResult;
  beforeAll(async () => {
    pg = await startPostgres();
    first = await trainTiers(10);
    second = await trainTiers(14);
  }, 180_000);
  afterAll(() => pg?.stop());

  it("a promote through one replica, and a CLI rollback, are served by all three", async () => {
    const url = pg.createDatabase("replicas");
    const registry = await PgModelRegistry.open(url);
    const v1 = await registry.publish(first.dir);
    const v2 = await registry.publish(second.dir);
    await registry.promote(v1);
    await registry.close();
    const work = tempDir();
    const replicas: Replica[] = [];
    try {
      for (let i = 0; i < 3; i++) replicas.push(await serveReplica(url, join(work, `cache-${i}`)));
      for (const r of replicas) expect(await servedVersion(r.url)).toBe(first.manifest.version);

      const admin = await login(replicas[0].url, ADMIN_KEY);
      const promotedAt = performance.now();
      const res = await admin.post("/dashboard/api/models/promote", { version: v2 });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ from: v1, to: v2, reload: { ok: true, version: second.manifest.version } });
      const delays = await allServe(replicas, second.manifest.version, promotedAt);
      console.log(`promote ${v1} -> ${v2} served by 3 replicas after ${delays.join(", ")} ms`);

      const rolledAt = performance.now();
      const cli = spawnSync(process.execPath, [...CLI, "rollback", "--registry", url], { encoding: "utf8" });
      expect(cli.stderr).toBe("");
      expect(JSON.parse(cli.stdout)).toEqual({ from: v2, to: v1 });
      const back = await allServe(replicas, first.manifest.version, rolledAt);
      console.log(`CLI rollback ${v2} -> ${v1} served by 3 replicas after ${back.join(", ")} ms (including the CLI's start)`);

      const listed = spawnSync(process.execPath, [...CLI, "models", "--registry", url, "--json"], { encoding: "utf8" });
      expect((JSON.parse(listed.stdout) as { version: string; current: boolean; previous: boolean }[]).map((v) => [v.version, v.current, v.previous])).toEqual([
        [v1, true, false],
        [v2, false, true],
      ]);
    } finally {
      for (const r of replicas) r.child.kill("SIGTERM");
      await Promise.all(replicas.map((r) => r.exited));
    }
  }, 180_000);

  it("serve with an unreachable registry exits with one line naming the URL without its password", () => {
    const url = `postgres://triage:s3cret@127.0.0.1:${pg.port + 1}/nowhere`;
    const r = spawnSync(process.execPath, [...CLI, "serve", "--registry", url, "--registry-cache", join(tempDir(), "cache"), "--port", "0"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`postgres://triage@127.0.0.1:${pg.port + 1}/nowhere: cannot connect to the model registry`);
    expect(r.stderr).not.toContain("s3cret");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
