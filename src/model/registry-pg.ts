/**
 * @module The shared model registry in PostgreSQL (`--registry postgres://…`): every version's files with
 * their SHA-256, and the `current` pointer (with `previous`), in four tables created on first use.
 * Promote and rollback are one transaction that checks the version's stored bytes against their digests
 * and the manifest's checksums, switches the pointer and NOTIFYs the channel every replica LISTENs on
 * (registry-replica.ts); the notification is delivered only if the switch commits. Publishing a version
 * verifies the artifact first, so an unverifiable artifact never gets in. Advisory locks serialise the
 * schema's creation, switches, and retrains (withRetrainLock).
 */
import { readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { BUILD_OWNER_FILE, LEFTOVER_NAME } from "../common/atomic.js";
import { TriageError } from "../common/errors.js";
import { readManifest, type Manifest } from "./artifact.js";
import { verifyChecksums, type ArtifactChecksums } from "./checksums.js";
import { ARTIFACT_FILES, RETRAIN_REPORT_FILE, requiredFiles } from "./files.js";
import type { RegistryEntry, VersionRegistry } from "./registry-api.js";
import type { Pointer } from "./registry.js";
import { checkPostgresUrl, redactUrl, registryError } from "./registry-pg-url.js";

/** The channel promotions are announced on; the payload is the new current version. */
export const REGISTRY_CHANNEL = "triage_model_registry";

/** Advisory lock keys: (LOCK_CLASS, one of LOCKS). "tria" in ASCII. */
const LOCK_CLASS = 0x74726961;
const LOCKS = { schema: 1, pointer: 2, retrain: 3 } as const;

const SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS triage_model_version_seq;
CREATE TABLE IF NOT EXISTS triage_model_versions (
  version text PRIMARY KEY,
  model_version text NOT NULL,
  manifest_sha256 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS triage_model_files (
  version text NOT NULL REFERENCES triage_model_versions (version) ON DELETE CASCADE,
  path text NOT NULL,
  sha256 text NOT NULL,
  content bytea NOT NULL,
  PRIMARY KEY (version, path)
);
CREATE TABLE IF NOT EXISTS triage_model_pointer (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  version text NOT NULL REFERENCES triage_model_versions (version),
  previous text REFERENCES triage_model_versions (version),
  switched_at timestamptz NOT NULL
);`;

/** One stored file of a version. */
export interface StoredFile {
  path: string;
  sha256: string;
  content: Buffer;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every file of the artifact in `dir` (relative paths, `/` separators), minus build leftovers. */
function artifactFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (e.name === BUILD_OWNER_FILE || LEFTOVER_NAME.test(e.name)) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk("");
  return out.sort();
}

/**
 * Why the stored files of `version` cannot be served, or undefined when they can: each file's bytes
 * match the digest stored with it, the manifest parses and carries checksums, and every file the
 * manifest lists (and every file the loader needs) is stored with that digest.
 */
export function storedVersionProblem(version: string, files: readonly { path: string; sha256: string; actual: string }[]): string | undefined {
  for (const f of files) if (f.actual !== f.sha256) return `${version}/${f.path}: stored content does not match its SHA-256`;
  return undefined;
}

/** The manifest among a version's files, checked against the digests the files are stored with. */
export function checkManifestAgainstFiles(version: string, manifestContent: Buffer | undefined, digests: ReadonlyMap<string, string>): Manifest {
  if (!manifestContent) throw new TriageError(`${version}: has no ${ARTIFACT_FILES.manifest}`);
  let manifest: Manifest & { checksums?: ArtifactChecksums };
  try {
    manifest = JSON.parse(manifestContent.toString("utf8")) as Manifest & { checksums?: ArtifactChecksums };
  } catch (err) {
    throw new TriageError(`${version}/${ARTIFACT_FILES.manifest}: not valid JSON (${(err as Error).message})`);
  }
  const listed = manifest.checksums?.files;
  if (!listed) throw new TriageError(`${version}/${ARTIFACT_FILES.manifest}: has no checksums, so the version cannot be verified`);
  for (const rel of requiredFiles(manifest)) if (!(rel in listed)) throw new TriageError(`${version}/${ARTIFACT_FILES.manifest}: records no checksum for ${rel}`);
  for (const [rel, digest] of Object.entries(listed)) {
    const stored = digests.get(rel);
    if (stored === undefined) throw new TriageError(`${version}/${rel}: missing from the registry`);
    if (stored !== digest) throw new TriageError(`${version}/${rel}: stored SHA-256 differs from the manifest's`);
  }
  return manifest;
}

async function nextVersion(c: pg.PoolClient): Promise<string> {
  const { rows } = await c.query<{ n: string }>("SELECT nextval('triage_model_version_seq') AS n");
  return `v${rows[0].n.padStart(4, "0")}`;
}

export class PgModelRegistry implements VersionRegistry {
  readonly url: string;
  readonly location: string;
  private readonly pool: pg.Pool;
  private ready: Promise<void> | undefined;

  /** Does not connect yet; the first call does (and creates the tables when missing). */
  constructor(url: string) {
    checkPostgresUrl(url);
    this.url = url;
    this.location = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection must not end the process; the next query reconnects.
    this.pool.on("error", () => {});
  }

  /** Opens the registry: connects and creates the tables if needed. A bad URL or unreachable database is one line naming the URL. */
  static async open(url: string): Promise<PgModelRegistry> {
    const registry = new PgModelRegistry(url);
    try {
      await registry.init();
    } catch (err) {
      await registry.close();
      throw err;
    }
    return registry;
  }

  private init(): Promise<void> {
    this.ready ??= this.transaction("cannot open the model registry", async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, LOCKS.schema]);
      await c.query(SCHEMA);
    }).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Runs `fn` in one transaction on one connection; any failure rolls it back and becomes a one-line error. */
  private async transaction<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw registryError(this.url, `cannot connect to the model registry: ${what}`, err);
    }
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw registryError(this.url, what, err);
    } finally {
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    await this.init();
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw registryError(this.url, what, err);
    }
  }

  async pointer(): Promise<Pointer | null> {
    const rows = await this.query<{ version: string; previous: string | null; switched_at: Date }>(
      "reading the current version",
      "SELECT version, previous, switched_at FROM triage_model_pointer",
    );
    return rows[0] ? { version: rows[0].version, previous: rows[0].previous, switchedAt: rows[0].switched_at.toISOString() } : null;
  }

  async current(): Promise<string | null> {
    return (await this.pointer())?.version ?? null;
  }

  async versionNames(): Promise<string[]> {
    const rows = await this.query<{ version: string }>("listing versions", "SELECT version FROM triage_model_versions ORDER BY created_at, version");
    return rows.map((r) => r.version);
  }

  async list(): Promise<RegistryEntry[]> {
    const pointer = await this.pointer();
    const rows = await this.query<{ version: string; content: Buffer | null }>(
      "listing versions",
      `SELECT v.version, f.content FROM triage_model_versions v
         LEFT JOIN triage_model_files f ON f.version = v.version AND f.path = $1
        ORDER BY v.created_at, v.version`,
      [ARTIFACT_FILES.manifest],
    );
    return rows.map((r) => {
      const base = { version: r.version, current: pointer?.version === r.version, previous: pointer?.previous === r.version };
      try {
        if (!r.content) throw new Error(`no ${ARTIFACT_FILES.manifest}`);
        return { ...base, manifest: JSON.parse(r.content.toString("utf8")) as Manifest };
      } catch (err) {
        return { ...base, manifest: null, error: (err as Error).message };
      }
    });
  }

  async readReport(version: string): Promise<unknown> {
    const rows = await this.query<{ content: Buffer }>("reading a retrain report", "SELECT content FROM triage_model_files WHERE version = $1 AND path = $2", [
      version,
      RETRAIN_REPORT_FILE,
    ]);
    if (!rows[0]) return null;
    try {
      return JSON.parse(rows[0].content.toString("utf8"));
    } catch (err) {
      throw new TriageError(`${this.location}: ${version}/${RETRAIN_REPORT_FILE}: ${(err as Error).message}`);
    }
  }

  /**
   * Stores the artifact in `dir` as a new version (named v0001, v0002, … from a sequence, so a name is
   * never reused) without promoting it. The artifact is verified against its checksums first; one
   * without checksums is refused, since no replica could verify it.
   */
  async publish(dir: string, reserved?: string): Promise<string> {
    const manifest = readManifest(dir);
    if (!(await verifyChecksums(dir, manifest, requiredFiles(manifest))))
      throw new TriageError(`${dir}: the model has no checksums (written by an older triage), so replicas could not verify it; retrain it before publishing`);
    const digest = (manifest as { checksums?: ArtifactChecksums }).checksums?.manifest ?? "";
    const files = artifactFiles(dir).map((path) => {
      const content = readFileSync(join(dir, path));
      return { path, content, sha256: sha256(content) };
    });
    await this.init();
    return this.transaction(`publishing ${dir}`, async (c) => {
      const version = reserved ?? (await nextVersion(c));
      await c.query("INSERT INTO triage_model_versions (version, model_version, manifest_sha256) VALUES ($1, $2, $3)", [version, manifest.version, digest]);
      for (const f of files) await c.query("INSERT INTO triage_model_files (version, path, sha256, content) VALUES ($1, $2, $3, $4)", [version, f.path, f.sha256, f.content]);
      return version;
    });
  }

  /** Takes the next version name now (for a candidate whose files come later, through publish). */
  async reserveVersion(): Promise<string> {
    await this.init();
    return this.transaction("reserving a version name", nextVersion);
  }

  /** Adds (or replaces) one file of a stored version that checksums do not cover: retrain's report. */
  async writeReport(version: string, report: object): Promise<void> {
    const content = Buffer.from(JSON.stringify(report, null, 2) + "\n");
    await this.query(
      "storing a retrain report",
      `INSERT INTO triage_model_files (version, path, sha256, content) VALUES ($1, $2, $3, $4)
       ON CONFLICT (version, path) DO UPDATE SET sha256 = excluded.sha256, content = excluded.content`,
      [version, RETRAIN_REPORT_FILE, sha256(content), content],
    );
  }

  /** The stored files of `version`, each checked against its digest here, after the transfer. */
  async fetchVersion(version: string): Promise<{ files: StoredFile[]; manifest: Manifest }> {
    const files = await this.query<StoredFile>("reading a version's files", "SELECT path, sha256, content FROM triage_model_files WHERE version = $1 ORDER BY path", [version]);
    if (files.length === 0) throw new TriageError(`${this.location}: no version "${version}" in the registry`);
    const problem = storedVersionProblem(
      version,
      files.map((f) => ({ ...f, actual: sha256(f.content) })),
    );
    if (problem) throw new TriageError(`${this.location}: ${problem}; not using it`);
    const digests = new Map(files.map((f) => [f.path, f.sha256]));
    const manifest = checkManifestAgainstFiles(version, files.find((f) => f.path === ARTIFACT_FILES.manifest)?.content, digests);
    return { files, manifest };
  }

  /** `expectCurrent`: switch only if that is still the current version (null: none yet), else throw. */
  async promote(version: string, options: { expectCurrent?: string | null } = {}): Promise<Pointer> {
    await this.init();
    return this.transaction(`promoting ${version}`, async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, LOCKS.pointer]);
      await this.checkStored(c, version);
      const old = (await c.query<{ version: string; previous: string | null }>("SELECT version, previous FROM triage_model_pointer")).rows[0];
      if (options.expectCurrent !== undefined && (old?.version ?? null) !== options.expectCurrent)
        throw new TriageError(`the current version changed to ${old?.version ?? "none"} meanwhile (expected ${options.expectCurrent ?? "none"}); not switching`);
      const previous = old && old.version !== version ? old.version : (old?.previous ?? null);
      const { rows } = await c.query<{ switched_at: Date }>(
        `INSERT INTO triage_model_pointer (id, version, previous, switched_at) VALUES (true, $1, $2, now())
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, previous = excluded.previous, switched_at = excluded.switched_at
         RETURNING switched_at`,
        [version, previous],
      );
      await c.query("SELECT pg_notify($1, $2)", [REGISTRY_CHANNEL, version]);
      return { version, previous, switchedAt: rows[0].switched_at.toISOString() };
    });
  }

  async rollback(to?: string): Promise<{ from: string; to: string }> {
    const pointer = await this.pointer();
    if (!pointer) throw new TriageError(`${this.location}: nothing to roll back, the registry has no current version`);
    const target = to ?? pointer.previous;
    if (!target) throw new TriageError(`${this.location}: no previous version to roll back to (current is ${pointer.version})`);
    if (target === pointer.version) throw new TriageError(`${this.location}: ${target} is already the current version`);
    await this.promote(target);
    return { from: pointer.version, to: target };
  }

  /** Inside a switch: the version's bytes, hashed by the database, match their digests and the manifest. */
  private async checkStored(c: pg.PoolClient, version: string): Promise<void> {
    const { rows } = await c.query<{ path: string; sha256: string; actual: string; manifest: Buffer | null }>(
      `SELECT path, sha256, encode(sha256(content), 'hex') AS actual, CASE WHEN path = $2 THEN content END AS manifest
         FROM triage_model_files WHERE version = $1`,
      [version, ARTIFACT_FILES.manifest],
    );
    if (rows.length === 0) throw new TriageError(`no version "${version}" in the registry`);
    const problem = storedVersionProblem(version, rows);
    if (problem) throw new TriageError(`${problem}; not promoting it`);
    const manifest = rows.find((r) => r.manifest)?.manifest ?? undefined;
    checkManifestAgainstFiles(version, manifest, new Map(rows.map((r) => [r.path, r.sha256])));
  }

  /**
   * Deletes the oldest versions beyond `keep`, never the current or previous one. Returns the versions deleted.
   */
  async prune(keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 1) throw new TriageError(`prune: keep must be a positive integer, got ${keep}`);
    await this.init();
    return this.transaction("pruning old versions", async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, LOCKS.pointer]);
      const pointer = (await c.query<{ version: string; previous: string | null }>("SELECT version, previous FROM triage_model_pointer")).rows[0];
      const names = (await c.query<{ version: string }>("SELECT version FROM triage_model_versions ORDER BY created_at, version")).rows.map((r) => r.version);
      const kept = new Set([pointer?.version, pointer?.previous].filter((v): v is string => !!v));
      const doomed = names.filter((n) => !kept.has(n)).slice(0, Math.max(0, names.length - keep));
      if (doomed.length > 0) await c.query("DELETE FROM triage_model_versions WHERE version = ANY($1)", [doomed]);
      return doomed;
    });
  }

  /**
   * Runs `fn` holding the registry's retrain lock (a session advisory lock on a connection of its own,
   * released when `fn` ends or the process dies), so two retrains cannot race. Refuses at once when
   * another retrain holds it.
   */
  async withRetrainLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.init();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw registryError(this.url, "cannot connect to the model registry", err);
    }
    try {
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [LOCK_CLASS, LOCKS.retrain]);
      if (!rows[0].ok) throw new TriageError(`${this.location}: another retrain of this registry is running; wait for it to finish`);
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock($1, $2)", [LOCK_CLASS, LOCKS.retrain]).catch(() => {});
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
