/**
 * The shared model registry against a real PostgreSQL: versions stored with their SHA-256, promote and
 * rollback as one NOTIFYing transaction, refusal of damaged versions, and a replica's verified local cache.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PgModelRegistry, REGISTRY_CHANNEL } from "../../src/model/registry-pg.js";
import { materialiseVersion, RegistryReplica } from "../../src/model/registry-replica.js";
import { ModelRegistry } from "../../src/model/registry.js";
import { loadModel } from "../../src/model/load.js";
import type { TrainResult } from "../../src/train/train.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { tempDir, trainTiers } from "../helpers/tiers.js";

const available = !!findPostgres() || !!process.env.CI;
if (!available) console.log(PG_SKIP_REASON);

describe.skipIf(!available)("PostgreSQL model registry", () => {
  let server: TestPostgres;
  let first: TrainResult;
  let second: TrainResult;
  beforeAll(async () => {
    server = await startPostgres();
    first = await trainTiers(10);
    second = await trainTiers(14);
  }, 180_000);
  afterAll(() => server?.stop());

  it("stores versions, promotes and rolls back in one transaction that notifies listeners", async () => {
    const url = server.createDatabase("switch");
    const registry = await PgModelRegistry.open(url);
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.payload ?? ""));
    await listener.query(`LISTEN ${REGISTRY_CHANNEL}`);
    try {
      expect(await registry.pointer()).toBeNull();
      const v1 = await registry.publish(first.dir);
      const v2 = await registry.publish(second.dir);
      expect([v1, v2]).toEqual(["v0001", "v0002"]);
      expect(heard).toEqual([]); // publishing does not switch
      await registry.promote(v1);
      await registry.promote(v2);
      expect(await registry.pointer()).toMatchObject({ version: "v0002", previous: "v0001" });
      expect(await registry.rollback()).toEqual({ from: "v0002", to: "v0001" });
      expect((await registry.list()).map((v) => [v.version, v.current, v.previous, v.manifest?.version])).toEqual([
        ["v0001", true, false, first.manifest.version],
        ["v0002", false, true, second.manifest.version],
      ]);
      // A switch that expects another current version (a retrain compared against it) is refused.
      await expect(registry.promote(v2, { expectCurrent: v2 })).rejects.toThrow("the current version changed to v0001 meanwhile (expected v0002); not switching");
      expect(await registry.current()).toBe("v0001");
      await vi.waitFor(() => expect(heard).toEqual(["v0001", "v0002", "v0001"]));
      // A second process sees the same registry, tables already there.
      const other = await PgModelRegistry.open(url);
      expect(await other.current()).toBe("v0001");
      await other.close();
    } finally {
      await listener.end();
      await registry.close();
    }
  });

  it("refuses to promote a version whose stored bytes fail their SHA-256, and to publish an unverifiable artifact", async () => {
    const url = server.createDatabase("damaged");
    const registry = await PgModelRegistry.open(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const v1 = await registry.publish(first.dir);
      await registry.promote(v1);
      const v2 = await registry.publish(second.dir);
      await db.query("UPDATE triage_model_files SET content = content || '\\x00'::bytea WHERE version = $1 AND path = 'head.bin'", [v2]);
      await expect(registry.promote(v2)).rejects.toThrow(`v0002/head.bin: stored content does not match its SHA-256; not promoting it`);
      // Bytes and digest replaced together: the manifest's checksum still catches it.
      await db.query("UPDATE triage_model_files SET sha256 = encode(sha256(content), 'hex') WHERE version = $1 AND path = 'head.bin'", [v2]);
      await expect(registry.promote(v2)).rejects.toThrow("v0002/head.bin: stored SHA-256 differs from the manifest's");
      expect(await registry.pointer()).toMatchObject({ version: "v0001", previous: null });

      const old = join(tempDir(), "old");
      const { cpSync } = await import("node:fs");
      cpSync(first.dir, old, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(old, "manifest.json"), "utf8")) as Record<string, unknown>;
      delete manifest.checksums;
      writeFileSync(join(old, "manifest.json"), JSON.stringify(manifest));
      await expect(registry.publish(old)).rejects.toThrow(/has no checksums.*replicas could not verify it/);
      expect(await registry.versionNames()).toEqual(["v0001", "v0002"]);
    } finally {
      await db.end();
      await registry.close();
    }
  });

  it("names a bad URL or an unreachable database in one line, without the password", async () => {
    await expect(PgModelRegistry.open("postgres://u:s3cret@db.invalid")).rejects.toThrow(/^postgres:\/\/u@db\.invalid: a PostgreSQL registry URL needs a host and a database/);
    await expect(PgModelRegistry.open("postgres://u:s3cret@[x/db")).rejects.toThrow(/^postgres:\/\/u@\[x\/db: not a valid PostgreSQL URL/);
    const closed = `postgres://triage:s3cret@127.0.0.1:${server.port + 1}/nowhere`;
    const err = (await PgModelRegistry.open(closed).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`^postgres://triage@127\\.0\\.0\\.1:${server.port + 1}/nowhere: cannot connect to the model registry`));
    expect(err.message).not.toContain("s3cret");
    expect(err.message).not.toContain("\n");
  });

  it("a replica materialises the current version verified, follows promotions, and never points at a version that fails verification", async () => {
    const url = server.createDatabase("replica");
    const registry = await PgModelRegistry.open(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const cacheDir = join(tempDir(), "cache");
    const errors: Error[] = [];
    const v1 = await registry.publish(first.dir);
    await registry.promote(v1);
    const replica = await RegistryReplica.start(url, { cacheDir, onError: (e) => errors.push(e), pollMs: 60_000 });
    const switched: string[] = [];
    replica.onSwitch((v) => switched.push(v));
    try {
      expect(replica.version).toBe("v0001");
      expect((await loadModel(cacheDir)).manifest.version).toBe(first.manifest.version);
      const v2 = await registry.publish(second.dir);
      await registry.promote(v2);
      await vi.waitFor(() => expect(switched).toEqual(["v0002"]), { timeout: 10_000, interval: 20 });
      expect((await loadModel(cacheDir)).manifest.version).toBe(second.manifest.version);

      // Damaged at rest after its promotion, digest and all: the replica refuses it and keeps v0002.
      const v3 = await registry.publish(first.dir);
      await registry.promote(v3);
      await vi.waitFor(() => expect(switched).toEqual(["v0002", "v0003"]), { timeout: 10_000, interval: 20 });
      await registry.rollback();
      await vi.waitFor(() => expect(replica.version).toBe("v0002"), { timeout: 10_000, interval: 20 });
      rmSync(join(cacheDir, "versions", v3), { recursive: true });
      await db.query(
        "UPDATE triage_model_files SET content = content || '\\x00'::bytea, sha256 = encode(sha256(content || '\\x00'::bytea), 'hex') WHERE version = $1 AND path = 'head.bin'",
        [v3],
      );
      await db.query("UPDATE triage_model_pointer SET version = $1, previous = 'v0002'", [v3]);
      await db.query("SELECT pg_notify($1, $2)", [REGISTRY_CHANNEL, v3]);
      await vi.waitFor(() => expect(errors.map((e) => e.message).join("\n")).toContain("v0003/head.bin: stored SHA-256 differs from the manifest's"), {
        timeout: 10_000,
        interval: 20,
      });
      expect(replica.version).toBe("v0002");
      expect(existsSync(join(cacheDir, "versions", v3))).toBe(false);
      expect((await loadModel(cacheDir)).manifest.version).toBe(second.manifest.version);
    } finally {
      await replica.close();
      await db.end();
      await registry.close();
    }
  });

  it("a replica whose listening connection is cut reconnects, and a switch nobody announced is found by the periodic check", async () => {
    const url = server.createDatabase("reconnect");
    const registry = await PgModelRegistry.open(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const errors: Error[] = [];
    const v1 = await registry.publish(first.dir);
    const v2 = await registry.publish(second.dir);
    await registry.promote(v1);
    const quiet = await RegistryReplica.start(url, { cacheDir: join(tempDir(), "quiet"), pollMs: 60_000, onError: (e) => errors.push(e) });
    const polling = await RegistryReplica.start(url, { cacheDir: join(tempDir(), "polling"), pollMs: 100, onError: () => {} });
    try {
      const listeners = async () =>
        (await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = 'reconnect' AND query ILIKE 'LISTEN%'")).rows.map((r) => r.pid);
      const before = await listeners();
      expect(before).toHaveLength(2);
      await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)", [before]);
      await vi.waitFor(() => expect(errors.map((e) => e.message).join("\n")).toContain("lost the connection listening for promotions; reconnecting"), { timeout: 10_000 });
      await vi.waitFor(async () => expect((await listeners()).filter((p) => !before.includes(p))).toHaveLength(2), { timeout: 20_000, interval: 50 });
      await registry.promote(v2);
      await vi.waitFor(() => expect(quiet.version).toBe(v2), { timeout: 10_000, interval: 20 });
      // Switched behind the registry's back, without NOTIFY: only the periodic check sees it.
      await db.query("UPDATE triage_model_pointer SET version = $1, previous = $2", [v1, v2]);
      await vi.waitFor(() => expect(polling.version).toBe(v1), { timeout: 10_000, interval: 20 });
    } finally {
      await quiet.close();
      await polling.close();
      await db.end();
      await registry.close();
    }
  });

  it("replicas sharing one cache folder copy the same version at once without failing, and each is told of a switch", async () => {
    const url = server.createDatabase("shared_cache");
    const registry = await PgModelRegistry.open(url);
    try {
      const v1 = await registry.publish(first.dir);
      const local = new ModelRegistry(join(tempDir(), "cache"));
      await Promise.all([materialiseVersion(registry, local, v1), materialiseVersion(registry, local, v1), materialiseVersion(registry, local, v1)]);
      expect(local.versionNames()).toEqual([v1]);
      await registry.promote(v1);
      // Both replicas are told of a switch, though only the first to get there moves the shared pointer.
      const replicas = await Promise.all([0, 1].map(() => RegistryReplica.start(url, { cacheDir: local.root, pollMs: 60_000, onError: () => {} })));
      const told = replicas.map(() => [] as string[]);
      replicas.forEach((r, i) => r.onSwitch((v) => told[i].push(v)));
      try {
        expect((await loadModel(local.root)).manifest.version).toBe(first.manifest.version);
        const v2 = await registry.publish(second.dir);
        await registry.promote(v2);
        await vi.waitFor(() => expect(told).toEqual([[v2], [v2]]), { timeout: 10_000, interval: 20 });
        expect((await loadModel(local.root)).manifest.version).toBe(second.manifest.version);
      } finally {
        for (const r of replicas) await r.close();
      }
    } finally {
      await registry.close();
    }
  });

  it("lets one retrain at a time hold the registry's lock", async () => {
    const url = server.createDatabase("lock");
    const a = await PgModelRegistry.open(url);
    const b = await PgModelRegistry.open(url);
    try {
      let release!: () => void;
      const held = a.withRetrainLock(() => new Promise<void>((r) => (release = r)));
      await vi.waitFor(() => expect(release).toBeTypeOf("function"));
      await expect(b.withRetrainLock(async () => "ran")).rejects.toThrow(/another retrain of this registry is running/);
      release();
      await held;
      await expect(b.withRetrainLock(async () => "ran")).resolves.toBe("ran");
    } finally {
      await a.close();
      await b.close();
    }
  });
});
