/**
 * @module A serving replica of a shared PostgreSQL registry: the registry's current version is
 * materialised into a local cache folder, which is itself a folder registry (`versions/<v>/` and a
 * `current` pointer), so the router loads and verifies it like any artifact. A version's files are
 * written into a hidden `.building` folder, checked against the SHA-256 stored with each and against
 * the manifest's checksums, and only then renamed into place and pointed at: a version that fails is
 * never pointed at, and the one serving stays. LISTEN on the registry's channel drives the switch; a
 * reconnecting listener and a periodic check catch notifications missed while disconnected.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { TriageError } from "../common/errors.js";
import { readManifest } from "./artifact.js";
import { verifyChecksums, type ArtifactChecksums } from "./checksums.js";
import { requiredFiles } from "./files.js";
import { ModelRegistry } from "./registry.js";
import type { RegistryFollower } from "./registry-api.js";
import { PgModelRegistry, REGISTRY_CHANNEL } from "./registry-pg.js";
import { redactUrl, registryError } from "./registry-pg-url.js";

/** How often the replica checks the registry even without a notification. */
export const DEFAULT_REGISTRY_POLL_MS = 5000;
const MAX_RECONNECT_MS = 10_000;

export interface ReplicaOptions {
  /** The local cache folder (a folder registry triage creates); default under ~/.cache/triage/registries/. */
  cacheDir?: string;
  pollMs?: number;
  /** A failed switch or a lost connection; the serving version stays. Default: a process warning. */
  onError?: (error: Error) => void;
}

/** The default cache folder of a registry URL: one per server and database, never holding the password. */
export function defaultCacheDir(url: string): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "triage", "registries", createHash("sha256").update(redactUrl(url)).digest("hex").slice(0, 16));
}

export class RegistryReplica implements RegistryFollower {
  readonly cacheDir: string;
  private readonly local: ModelRegistry;
  private readonly listeners = new Set<(version: string) => void>();
  private chain: Promise<unknown> = Promise.resolve();
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastFailure = "";
  /** Local switches since start (the first copy is not one). */
  switches = 0;
  /** The version this process has checked against the registry (a cache left by an earlier run is checked once). */
  private checked: string | null = null;
  /** The version this replica last told its listeners of (another replica sharing the cache may have switched its pointer). */
  private announced: string | null = null;

  private constructor(
    readonly registry: PgModelRegistry,
    private readonly options: ReplicaOptions,
  ) {
    this.cacheDir = options.cacheDir ?? defaultCacheDir(registry.url);
    this.local = new ModelRegistry(this.cacheDir);
  }

  /**
   * Connects, materialises the current version (throws when there is none or it fails verification)
   * and starts following the registry.
   */
  static async start(url: string, options: ReplicaOptions = {}): Promise<RegistryReplica> {
    const registry = await PgModelRegistry.open(url);
    const replica = new RegistryReplica(registry, options);
    try {
      const current = await registry.current();
      if (!current)
        throw new TriageError(`${registry.location}: the model registry has no current version yet; publish one with \`triage retrain --registry ${registry.location} …\``);
      await replica.sync();
      replica.switches = 0;
      await replica.listen();
      replica.timer = setInterval(() => void replica.sync().catch(() => {}), options.pollMs ?? DEFAULT_REGISTRY_POLL_MS);
      replica.timer.unref();
    } catch (err) {
      await replica.close();
      throw err;
    }
    return replica;
  }

  /** Called with the version after each local switch. Returns the unsubscribe function. */
  onSwitch(listener: (version: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The version the local cache points at. */
  get version(): string | null {
    return this.local.current();
  }

  /**
   * Brings the cache to the registry's current version; returns it when the local pointer switched,
   * null when it already pointed there. Serialised. A failure is thrown (start) and told to onError once per cause.
   */
  sync(): Promise<string | null> {
    const run = async () => {
      try {
        const switched = await this.syncOnce();
        this.lastFailure = "";
        if (switched) {
          this.switches++;
          for (const l of this.listeners) l(switched);
        }
        return switched;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (error.message !== this.lastFailure) this.report(error);
        this.lastFailure = error.message;
        throw error;
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => {});
    return next;
  }

  private async syncOnce(): Promise<string | null> {
    const pointer = await this.registry.pointer();
    if (!pointer || pointer.version === this.checked) return null;
    await materialiseVersion(this.registry, this.local, pointer.version);
    this.checked = pointer.version;
    if (pointer.version !== this.local.current()) {
      await this.local.promote(pointer.version);
      this.local.prune(3);
    }
    if (pointer.version === this.announced) return null;
    this.announced = pointer.version;
    return pointer.version;
  }

  /** LISTENs on a connection of its own; when it drops, reconnects with backoff and checks at once. */
  private async listen(attempt = 0): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.registry.url, connectionTimeoutMillis: 10_000, keepAlive: true });
    let dropped = false;
    const drop = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      // Told once per loss, not once per failed reconnect.
      if (err && attempt === 0) this.report(registryError(this.registry.url, "lost the connection listening for promotions; reconnecting", err));
      const wait = Math.min(MAX_RECONNECT_MS, 250 * 2 ** attempt);
      this.reconnectTimer = setTimeout(() => void this.listen(Math.min(attempt + 1, 6)).catch(() => {}), wait);
      this.reconnectTimer.unref();
    };
    client.on("error", (err) => drop(err));
    client.on("end", () => drop(new Error("connection ended")));
    client.on("notification", () => void this.sync().catch(() => {}));
    try {
      await client.connect();
      await client.query(`LISTEN ${REGISTRY_CHANNEL}`);
    } catch (err) {
      drop(err as Error);
      if (attempt === 0) throw registryError(this.registry.url, "cannot listen for promotions", err);
      return;
    }
    this.listener = client;
    attempt = 0;
    // A promotion may have happened while nobody was listening.
    if (!dropped) void this.sync().catch(() => {});
  }

  private report(error: Error): void {
    (this.options.onError ?? ((e: Error) => process.emitWarning(e.message, "TriageRegistry")))(error);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
    await this.chain;
    await this.registry.close();
  }
}

/**
 * Puts `version` of the shared registry into the folder registry `local` (not pointing at it): written
 * under a hidden `.building` name, verified against the manifest's checksums as read back from disk,
 * then renamed into place. A complete copy already there is reused when its manifest matches the registry's.
 */
export async function materialiseVersion(registry: PgModelRegistry, local: ModelRegistry, version: string): Promise<void> {
  const target = local.versionDir(version);
  const { files, manifest } = await registry.fetchVersion(version);
  const digest = (manifest as { checksums?: ArtifactChecksums }).checksums?.manifest;
  const alreadyThere = () =>
    verifyDir(target).then(
      () => (readManifest(target) as { checksums?: ArtifactChecksums }).checksums?.manifest === digest,
      () => false,
    );
  if (existsSync(target)) {
    if (await alreadyThere()) return;
    rmSync(target, { recursive: true, force: true }); // a stale or damaged copy of ours
  }
  const building = join(dirname(target), `.${randomBytes(6).toString("hex")}.building`);
  mkdirSync(building, { recursive: true });
  try {
    for (const f of files) {
      const path = join(building, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
    }
    // What was written, read back from disk: the manifest's checksums cover every file the loader reads.
    await verifyDir(building).catch((err: unknown) => {
      throw new TriageError(`${registry.location}: version ${version} fails verification in the local copy: ${(err as Error).message}`);
    });
    try {
      renameSync(building, target);
    } catch (err) {
      // Replicas on one machine may share the cache: another one may have put the same version there first.
      if (!existsSync(target) || !(await alreadyThere())) throw err;
      rmSync(building, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
}

async function verifyDir(dir: string): Promise<void> {
  const manifest = readManifest(dir);
  if (!(await verifyChecksums(dir, manifest, requiredFiles(manifest)))) throw new TriageError(`${dir}: the version has no checksums`);
}
