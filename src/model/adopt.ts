/**
 * @module Turning a plain model artifact (`triage train --out DIR`) into a registry in place, so the
 * directory every command already names keeps working and the learning loop can start from it.
 *
 * The artifact's files are hard-linked (copied where links are not possible) into `versions/.vNNNN.building`,
 * that folder is renamed to `versions/vNNNN`, the `current` pointer is written, and only then are the
 * top-level files removed. A process killed before the pointer exists leaves the plain artifact as it was
 * (a leftover hidden `.building` folder is pruned later); killed after, it leaves a working registry.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { TriageError } from "../common/errors.js";
import { readManifest } from "./artifact.js";
import { verifyChecksums } from "./checksums.js";
import { ARTIFACT_FILES, foreignArtifactEntry, POINTER_FILE, requiredFiles, VERSIONS_DIR } from "./files.js";
import { isRegistry, ModelRegistry } from "./registry.js";

export interface Adoption {
  /** The registry version the artifact became (v0001 unless leftovers already used that name). */
  version: string;
  /** Its directory, `ROOT/versions/<version>`. */
  dir: string;
}

/** True when `dir` holds a plain artifact (a manifest at its top, no registry pointer). */
export function isPlainArtifact(dir: string): boolean {
  return existsSync(join(dir, ARTIFACT_FILES.manifest)) && !existsSync(join(dir, POINTER_FILE));
}

/**
 * Makes the plain artifact in `root` the first version of a registry at the same path and points
 * `current` at it. Throws when `root` is not a plain artifact.
 */
export async function adoptArtifact(root: string): Promise<Adoption> {
  if (!isPlainArtifact(root)) throw new TriageError(`${root}: not a plain model artifact, nothing to adopt`);
  // Refuse to adopt something that cannot be loaded; checked here too so that an error names the user's file.
  const manifest = readManifest(root);
  await verifyChecksums(root, manifest, requiredFiles(manifest));
  // Adoption moves every top-level entry into the version: only what triage wrote may be moved.
  const stray = foreignArtifactEntry(root, [VERSIONS_DIR, POINTER_FILE]);
  if (stray !== undefined)
    throw new TriageError(`${root}: cannot adopt this model as a registry version: it also holds ${stray}, which triage did not write; move that away first`);
  const versions = join(root, VERSIONS_DIR);
  mkdirSync(versions, { recursive: true });
  // The registry's own naming, without its constructor (which refuses a directory that is still an artifact).
  const version = nextVersionName(versions);
  const staging = join(versions, `.${version}.adopt.building`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const entries = readdirSync(root).filter((name) => name !== VERSIONS_DIR && name !== POINTER_FILE && !name.startsWith("."));
  try {
    for (const name of entries) linkTree(join(root, name), join(staging, name));
    renameSync(staging, join(versions, version));
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw new TriageError(`${root}: cannot adopt the artifact as ${version} (${(err as Error).message}); it is unchanged`);
  }
  const registry = new ModelRegistry(root, { allowArtifactLeftovers: true });
  try {
    await registry.promote(version);
  } catch (err) {
    // The version holds links or copies only: the artifact at the top is as it was.
    rmSync(join(versions, version), { recursive: true, force: true });
    if (readdirSync(versions).length === 0) rmSync(versions, { recursive: true, force: true });
    throw err;
  }
  // From here on the directory is a registry. The manifest goes first: without it nothing mistakes the rest for an artifact.
  const ordered = [ARTIFACT_FILES.manifest, ...entries.filter((e) => e !== ARTIFACT_FILES.manifest)];
  for (const name of ordered) if (entries.includes(name)) rmSync(join(root, name), { recursive: true, force: true });
  return { version, dir: registry.versionDir(version) };
}

/**
 * The registry at `root`, adopting a plain artifact found there first (reported through `onAdopt`).
 * A missing or empty directory becomes a new registry, as before.
 */
export async function openRegistry(root: string, onAdopt?: (adoption: Adoption) => void): Promise<ModelRegistry> {
  if (!isRegistry(root) && isPlainArtifact(root)) {
    const adoption = await adoptArtifact(root);
    onAdopt?.(adoption);
  }
  return new ModelRegistry(root);
}

function nextVersionName(versionsDir: string): string {
  let max = 0;
  for (const name of readdirSync(versionsDir)) {
    const m = /^v(\d{4,})$/.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `v${String(max + 1).padStart(4, "0")}`;
}

/** Hard-links a file (or every file under a folder) to `to`; copies where the filesystem cannot link. */
function linkTree(from: string, to: string): void {
  if (statSync(from).isDirectory()) {
    mkdirSync(to);
    for (const name of readdirSync(from)) linkTree(join(from, name), join(to, name));
    return;
  }
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
