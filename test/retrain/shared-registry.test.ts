/**
 * Retraining into a shared PostgreSQL registry: the CLI seeds an empty one, a better candidate is published
 * and promoted there (with its report), and a second retrain while one holds the lock is refused.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgModelRegistry } from "../../src/model/registry-pg.js";
import { retrainShared } from "../../src/retrain/publish-pg.js";
import { CLI } from "../helpers/cli.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { TIERS_CONFIG, tempDir, tierExamples } from "../helpers/tiers.js";
import { readdirSync, writeFileSync } from "node:fs";
import { cachedUse, humanLog } from "./helpers.js";

const available = !!findPostgres() || !!process.env.CI;
if (!available) console.log(PG_SKIP_REASON);

const evalSet = tierExamples("test", 12);
const train5 = tierExamples("train", 5);
const train40 = tierExamples("train", 40);

describe.skipIf(!available)("retrain into a shared PostgreSQL registry", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(() => pg?.stop());

  it("seeds an empty registry from the CLI, then publishes and promotes a better candidate with its report", async () => {
    const url = pg.createDatabase("retrain");
    const work = tempDir();
    const data = join(work, "train.jsonl");
    writeFileSync(data, train5.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const cli = spawnSync(process.execPath, [...CLI, "retrain", "--registry", url, "--data", data, "--config", TIERS_CONFIG, "--log-db", humanLog([]), "--folds", "3", "--json"], {
      encoding: "utf8",
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ promoted: true, served: "v0001", candidateVersion: "v0001", registry: url, reason: "the registry had no current version" });

    const extra = train40.filter((e) => !train5.some((b) => b.text === e.text));
    const report = await retrainShared(url, {
      baseData: train5,
      logDb: humanLog(extra),
      evalData: evalSet,
      heldOut: { share: 0 },
      minHeldOut: evalSet.length,
      encoder: await cachedUse(),
      folds: 3,
    });
    expect(report).toMatchObject({ promoted: true, served: "v0002", candidateVersion: "v0002", registry: url });
    expect(report.reason).toMatch(/^promoted v0002: accuracy/);
    const registry = await PgModelRegistry.open(url);
    try {
      expect(await registry.pointer()).toMatchObject({ version: "v0002", previous: "v0001" });
      expect(await registry.readReport("v0002")).toEqual(JSON.parse(JSON.stringify(report)));
      expect((await registry.list()).map((v) => v.manifest?.version)).toEqual([expect.any(String), report.candidate!.version]);
    } finally {
      await registry.close();
    }
  }, 300_000);

  it("refuses a second retrain while one holds the registry's lock", async () => {
    const url = pg.createDatabase("locked");
    const holder = await PgModelRegistry.open(url);
    try {
      await holder.withRetrainLock(async () => {
        await expect(retrainShared(url, { baseData: train5, logDb: humanLog([]), encoder: await cachedUse(), folds: 3 })).rejects.toThrow(
          /another retrain of this registry is running/,
        );
      });
    } finally {
      await holder.close();
    }
  });

  it("train --registry URL publishes each new version and makes it current, verified", async () => {
    const url = pg.createDatabase("train");
    const work = tempDir();
    const data = join(work, "train.jsonl");
    writeFileSync(data, train5.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const train = () =>
      spawnSync(process.execPath, [...CLI, "train", "--data", data, "--config", TIERS_CONFIG, "--registry", url, "--folds", "3", "--encoder", "use"], {
        encoding: "utf8",
        cwd: work,
      });
    const first = train();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/current -> v0001/);
    const second = train();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/version v0002 of postgres:\/\/.*, now current/);
    const registry = await PgModelRegistry.open(url);
    try {
      expect(await registry.pointer()).toMatchObject({ version: "v0002", previous: "v0001" });
      // Both stored versions pass the same checks a replica runs before serving one.
      for (const v of ["v0001", "v0002"]) expect((await registry.fetchVersion(v)).manifest.labels).toContain("COMPLEX");
    } finally {
      await registry.close();
    }
    // The URL is not taken for a folder name.
    expect(readdirSync(work).filter((name) => name.startsWith("postgres"))).toEqual([]);
  }, 300_000);
});
