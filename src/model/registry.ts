/**
 * @module A model registry: `ROOT/versions/<version>/` artifact directories and a `ROOT/current` pointer file.
 * The pointer holds JSON `{"version", "previous", "switchedAt"}` and is replaced by rename, so a reader
 * (or a process killed mid-switch) sees either the old or the new pointer, never a mix; `previous` lives
 * in the same file so promote and rollback are one atomic step each. Both verify the target version's
 * checksums before that step, so `current` never moves to a version that would not load.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { removeDeadLeftovers, writeFileAtomic } from "../common/atomic.js";
import { TriageError } from "../common/errors.js";
import { readManifest, type Manifest } from "./artifact.js";
import { verifyChecksums } from "./checksums.js";
import { ARTIFACT_FILES, POINTER_FILE, requiredFiles, RETRAIN_REPORT_FILE, VERSIONS_DIR } from "./files.js";

export const DEFAULT_KEEP_VERSIONS = 5;

export interface Pointer {
  version: string;
  previous: string | null;
  /** ISO time of the switch. */
  switchedAt: string;
}

export interface RegistryVersion {
  version: string;
  dir: string;
  current: boolean;
  previous: boolean;
  /** null when the directory holds no readable manifest (reported in `error`). */
  manifest: Manifest | null;
  error?: string;
}

const VERSION_NAME = /^v(\d{4,})$/;

/** True when `dir` looks like a registry (has a pointer file or a versions/ folder) rather than an artifact. */
export function isRegistry(dir: string): boolean {
  return existsSync(join(dir, POINTER_FILE)) || (existsSync(join(dir, VERSIONS_DIR)) && !existsSync(join(dir, ARTIFACT_FILES.manifest)));
}

/** Parses a pointer file's content; a bare version name (hand-written) is accepted too. */
export function parsePointer(content: string, where: string): Pointer {
  const text = content.trim();
  if (text === "") throw new TriageError(`${where}: empty model pointer`);
  if (!text.startsWith("{")) {
    // Anything else in a file called `current` is not ours: promote must not overwrite it.
    if (!/^[\w.-]+$/.test(text)) throw new TriageError(`${where}: not a model pointer (expected JSON or a version name); not touching it`);
    return { version: text, previous: null, switchedAt: "" };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TriageError(`${where}: model pointer is not valid JSON (${(err as Error).message})`);
  }
  const p = raw as Partial<Pointer>;
  if (typeof p.version !== "string" || p.version === "") throw new TriageError(`${where}: model pointer has no "version"`);
  return { version: p.version, previous: typeof p.previous === "string" ? p.previous : null, switchedAt: typeof p.switchedAt === "string" ? p.switchedAt : "" };
}

/**
 * The artifact directory `dir` stands for: a registry's current version, or `dir` itself.
 * Throws a TriageError naming the registry when its pointer is missing or points nowhere.
 */
export function resolveModelDir(dir: string): string {
  if (!isRegistry(dir)) return dir;
  const registry = new ModelRegistry(dir);
  const pointer = registry.pointer();
  if (!pointer) throw new TriageError(`${dir}: model registry has no current version yet; train one with \`triage train --registry ${dir}\``);
  const target = registry.versionDir(pointer.version);
  if (!existsSync(target)) throw new TriageError(`${join(dir, POINTER_FILE)}: points to version "${pointer.version}", but ${target} does not exist`);
  return target;
}

export class ModelRegistry {
  readonly root: string;

  /** `allowArtifactLeftovers`: adoption (adopt.ts) opens the directory while it is still an artifact. */
  constructor(root: string, options: { allowArtifactLeftovers?: boolean } = {}) {
    this.root = resolve(root);
    if (existsSync(this.root) && !statSync(this.root).isDirectory()) throw new TriageError(`${root}: not a directory, so not a model registry`);
    // With a pointer it is a registry: top-level artifact files are leftovers of an adoption cut short.
    if (!options.allowArtifactLeftovers && existsSync(join(this.root, ARTIFACT_FILES.manifest)) && !existsSync(join(this.root, POINTER_FILE)))
      throw new TriageError(
        `${root}: is a plain model artifact, not a registry; \`triage retrain --registry ${root}\` or \`triage train --registry ${root}\` adopts it as the first version`,
      );
    // A registry is recognised by its pointer file or versions/ folder; versions and the pointer are
    // only ever added there, so any other non-empty folder is the user's and stays untouched.
    if (!options.allowArtifactLeftovers && existsSync(this.root) && !isRegistry(this.root) && readdirSync(this.root).length > 0)
      throw new TriageError(
        `${root}: is not a model registry (no \`${POINTER_FILE}\` pointer or ${VERSIONS_DIR}/ folder) and not empty; use a new or empty directory for --registry`,
      );
  }

  get pointerPath(): string {
    return join(this.root, POINTER_FILE);
  }

  versionDir(version: string): string {
    if (!/^[\w.-]+$/.test(version) || version.startsWith(".")) throw new TriageError(`model registry ${this.root}: invalid version name "${version}"`);
    return join(this.root, VERSIONS_DIR, version);
  }

  /** The pointer, or null when nothing was promoted yet. */
  pointer(): Pointer | null {
    let content: string;
    try {
      content = readFileSync(this.pointerPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new TriageError(`${this.pointerPath}: ${(err as Error).message}`);
    }
    return parsePointer(content, this.pointerPath);
  }

  current(): string | null {
    return this.pointer()?.version ?? null;
  }

  currentDir(): string | null {
    const v = this.current();
    return v === null ? null : this.versionDir(v);
  }

  /** Version names present on disk, oldest first (hidden in-progress `.building` dirs are not versions). */
  versionNames(): string[] {
    const dir = join(this.root, VERSIONS_DIR);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort(compareVersions);
  }

  list(): RegistryVersion[] {
    const pointer = this.pointer();
    return this.versionNames().map((version) => {
      const dir = this.versionDir(version);
      const base = { version, dir, current: pointer?.version === version, previous: pointer?.previous === version };
      try {
        return { ...base, manifest: readManifest(dir) };
      } catch (err) {
        return { ...base, manifest: null, error: (err as Error).message };
      }
    });
  }

  /** Stores retrain's report beside the version it trained (replacing an earlier one). */
  writeReport(version: string, report: object): void {
    writeFileAtomic(join(this.versionDir(version), RETRAIN_REPORT_FILE), JSON.stringify(report, null, 2) + "\n");
  }

  /** The version's retrain report as stored, or null when it has none (trained by `train`, not `retrain`). */
  readReport(version: string): unknown {
    const path = join(this.versionDir(version), RETRAIN_REPORT_FILE);
    if (!existsSync(path)) return null;
    try {
      return JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      throw new TriageError(`${path}: ${(err as Error).message}`);
    }
  }

  /** A fresh version name (v0001, v0002, ...) greater than any on disk, including in-progress ones. */
  nextVersion(): string {
    const dir = join(this.root, VERSIONS_DIR);
    let max = 0;
    if (existsSync(dir))
      for (const name of readdirSync(dir)) {
        const m = VERSION_NAME.exec(name);
        if (m) max = Math.max(max, Number(m[1]));
      }
    return `v${String(max + 1).padStart(4, "0")}`;
  }

  /**
   * Points `current` at `version`, remembering the old one as `previous`. The version is verified first
   * as the loader would (manifest, then every file against its SHA-256), so a damaged version is refused
   * here, with the file named and `current` untouched, instead of failing every server's next reload.
   * A manifest without checksums (an older triage) cannot be verified and still promotes, as it still loads.
   * `expectCurrent`: switch only if that is still the current version (null: none yet), else throw.
   */
  async promote(version: string, options: { expectCurrent?: string | null } = {}): Promise<Pointer> {
    const dir = this.versionDir(version);
    const manifest = readManifest(dir);
    try {
      await verifyChecksums(dir, manifest, requiredFiles(manifest));
    } catch (err) {
      if (err instanceof TriageError) throw new TriageError(`${err.message}; not switching to ${version}`, err.code);
      throw err;
    }
    // Read after the wait, so that nothing switches between this read and the write below.
    const old = this.pointer();
    if (options.expectCurrent !== undefined && (old?.version ?? null) !== options.expectCurrent)
      throw new TriageError(`${this.root}: the current version changed to ${old?.version ?? "none"} meanwhile (expected ${options.expectCurrent ?? "none"}); not switching`);
    const next: Pointer = { version, previous: old && old.version !== version ? old.version : (old?.previous ?? null), switchedAt: new Date().toISOString() };
    writeFileAtomic(this.pointerPath, JSON.stringify(next) + "\n");
    return next;
  }

  /** Switches back to `previous` (or to `to`), verified as promote does; the version rolled back from becomes `previous`. */
  async rollback(to?: string): Promise<{ from: string; to: string }> {
    const pointer = this.pointer();
    if (!pointer) throw new TriageError(`${this.root}: nothing to roll back, the registry has no current version`);
    const target = to ?? pointer.previous;
    if (!target) throw new TriageError(`${this.root}: no previous version to roll back to (current is ${pointer.version})`);
    if (target === pointer.version) throw new TriageError(`${this.root}: ${target} is already the current version`);
    if (!existsSync(this.versionDir(target))) throw new TriageError(`${this.root}: version "${target}" no longer exists (pruned?)`);
    await this.promote(target);
    return { from: pointer.version, to: target };
  }

  /**
   * Deletes the oldest versions beyond `keep`, never the current or previous one. Also removes leftovers of
   * writes that died (hidden `.building`/`.old` dirs: see removeDeadLeftovers; age: `staleMs`). Returns the versions deleted.
   */
  prune(keep = DEFAULT_KEEP_VERSIONS, options: { staleMs?: number; now?: number } = {}): string[] {
    if (!Number.isInteger(keep) || keep < 1) throw new TriageError(`prune: keep must be a positive integer, got ${keep}`);
    const pointer = this.pointer();
    const protectedNames = new Set([pointer?.version, pointer?.previous].filter((v): v is string => !!v));
    const names = this.versionNames();
    const removable = names.filter((n) => !protectedNames.has(n));
    const excess = Math.max(0, names.length - keep);
    const doomed = removable.slice(0, excess);
    for (const v of doomed) rmSync(this.versionDir(v), { recursive: true, force: true });
    const dir = join(this.root, VERSIONS_DIR);
    const staleMs = options.staleMs ?? 24 * 3_600_000;
    const now = options.now ?? Date.now();
    removeDeadLeftovers(dir, now, staleMs);
    return doomed;
  }
}

function compareVersions(a: string, b: string): number {
  const ma = VERSION_NAME.exec(a);
  const mb = VERSION_NAME.exec(b);
  if (ma && mb) return Number(ma[1]) - Number(mb[1]);
  return a < b ? -1 : a > b ? 1 : 0;
}
