/**
 * @module Atomic writes that never destroy what triage did not write.
 *
 * A file is replaced by renaming a complete temporary file over it; a directory is built under a
 * temporary name and renamed into place. A directory write replaces an existing path only when it is
 * an empty directory or holds what the same writer wrote before (the caller's `DirOwner` decides);
 * anything else is refused with a TriageError and left as it was.
 *
 * Temporary names are `.<hex>.building` (a directory being built), `.<hex>.old` (the replaced
 * directory, deleted right after the swap) and `.<hex>.tmp` (a file being written). A process killed
 * mid-write leaves them behind; the next write to the same parent removes those proven dead:
 * - `.building` holds an owner file with the builder's host and pid. It is dead when that host is this
 *   one and the pid no longer runs (a reused pid only delays the clean-up). Without a readable owner
 *   file (killed in the instant between mkdir and writing it), or from another host (a shared volume,
 *   where the pid means nothing here), only age proves it: not modified for STALE_MS.
 * - `.old` and `.tmp` exist only for the instant between a rename and a delete (milliseconds), so
 *   age alone proves them dead: a `.tmp` not modified, a `.old` not renamed (ctime) for STALE_MS.
 * Nothing that does not match these name patterns is ever removed.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { randomBytes } from "node:crypto";
import { TriageError } from "./errors.js";

/** Leftovers untouched this long are dead: far longer than any write keeps them (milliseconds to seconds). */
export const STALE_MS = 60 * 60 * 1000;

/** Inside a `.building` dir while it is filled; removed just before the rename, so it never reaches the result. */
export const BUILD_OWNER_FILE = ".triage-build-owner";

/** The temporary names this module creates; only these are ever cleaned up. */
export const LEFTOVER_NAME = /^\.[0-9a-f]+\.(building|old|tmp)$/;

/** What an atomic directory write may replace, besides nothing and an empty directory. */
export interface DirOwner {
  /** What the directory holds, for messages: "a triage model", "a static encoder". */
  what: string;
  /**
   * Why the existing, non-empty directory `dir` is not one this writer may replace, or undefined when
   * it holds only what the writer itself writes (so replacing it loses nothing of the user's).
   */
  refuse(dir: string): string | undefined;
}

/**
 * Writes a file so that readers see either the old or the new content, never a partial one.
 * Only a regular file (or nothing) is replaced: a directory, link or device at `path` is refused.
 * An existing file is overwritten: callers write to paths the user named as outputs (reports,
 * pointer files), where replacing the previous run's output is the point.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const existing = lstatOrNull(path);
  if (existing && !existing.isFile()) throw new TriageError(`${path}: is ${describe(existing)}, not a file; nothing was written (remove it or choose another path)`);
  const parent = dirname(path);
  makeParent(parent);
  removeDeadLeftovers(parent);
  const tmp = join(parent, `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Throws a TriageError unless an atomic write may put a directory at `dir`: nothing there, an empty
 * directory, or a directory `owner` recognises as its own. Never the working directory or one of its
 * ancestors (renaming those fails, and replacing them would take the user's files with them).
 */
export function assertReplaceable(dir: string, owner: DirOwner): void {
  const abs = resolve(dir);
  const fromCwd = relative(abs, process.cwd());
  if (fromCwd === "" || (fromCwd !== ".." && !fromCwd.startsWith(`..${sep}`) && !isAbsolute(fromCwd)))
    throw new TriageError(`${dir}: is the working directory or one of its parents; write ${owner.what} to a new directory (e.g. models/NAME)`);
  const existing = lstatOrNull(abs);
  if (!existing) return;
  if (!existing.isDirectory()) throw new TriageError(`${dir}: is ${describe(existing)}, not a directory; nothing was changed (choose a new directory for ${owner.what})`);
  const entries = readdirSync(abs);
  if (entries.length === 0) return;
  const reason = owner.refuse(abs);
  if (reason !== undefined)
    throw new TriageError(`${dir}: not replacing it, it does not hold ${owner.what} (${reason}); nothing was changed (choose a new or empty directory, or move it away)`);
}

/**
 * Builds a directory under a temporary name, then renames it into place. An existing directory at
 * `dir` is replaced only after the new one is complete, and only if `assertReplaceable` allows it
 * (checked before building and again just before the swap).
 */
export async function writeDirAtomic(dir: string, owner: DirOwner, fill: (tmpDir: string) => Promise<void> | void): Promise<void> {
  assertReplaceable(dir, owner);
  const parent = dirname(resolve(dir));
  makeParent(parent);
  removeDeadLeftovers(parent);
  const tmp = join(parent, `.${randomBytes(6).toString("hex")}.building`);
  mkdirSync(tmp);
  try {
    writeFileSync(join(tmp, BUILD_OWNER_FILE), JSON.stringify({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString() }) + "\n");
    await fill(tmp);
    assertReplaceable(dir, owner);
    rmSync(join(tmp, BUILD_OWNER_FILE), { force: true });
    const old = join(parent, `.${randomBytes(6).toString("hex")}.old`);
    let moved = false;
    try {
      renameSync(dir, old);
      moved = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    renameSync(tmp, dir);
    if (moved) rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Removes the temporary files and directories of killed writes directly under `parent` (see the module
 * comment for the proof of death). Returns the names removed.
 */
export function removeDeadLeftovers(parent: string, now = Date.now(), staleMs = STALE_MS): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = LEFTOVER_NAME.exec(name);
    if (!m) continue;
    const path = join(parent, name);
    const st = lstatOrNull(path);
    if (!st) continue;
    const kind = m[1];
    const isDir = kind !== "tmp";
    if (st.isDirectory() !== isDir || st.isSymbolicLink()) continue;
    // A rename sets ctime, not mtime: a `.old` dir keeps the mtime of the artifact it was.
    const aged = now - (kind === "old" ? st.ctimeMs : st.mtimeMs) > staleMs;
    const dead = kind === "building" ? (builderDead(path) ?? aged) : aged;
    if (!dead) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** true/false when the owner file proves the build dead/alive; undefined when it cannot tell. */
function builderDead(dir: string): boolean | undefined {
  let owner: { host?: unknown; pid?: unknown };
  try {
    owner = JSON.parse(readFileSync(join(dir, BUILD_OWNER_FILE), "utf8")) as { host?: unknown; pid?: unknown };
  } catch {
    return undefined;
  }
  if (owner.host !== hostname() || typeof owner.pid !== "number" || !Number.isInteger(owner.pid) || owner.pid <= 0) return undefined;
  return !processAlive(owner.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function makeParent(parent: string): void {
  try {
    mkdirSync(parent, { recursive: true });
  } catch (err) {
    throw new TriageError(`${parent}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!statSync(parent).isDirectory()) throw new TriageError(`${parent}: is not a directory`);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new TriageError(`${path}: ${(err as Error).message}`);
  }
}

function describe(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFile()) return "a file";
  return "a special file";
}
