/**
 * @module SHA-256 checksums of a model artifact, recorded in its manifest and verified before use.
 *
 * `manifest.checksums.files` maps every file of the artifact (path relative to the artifact, `/`
 * separators; the manifest itself excluded) to its SHA-256. `manifest.checksums.manifest` is the
 * SHA-256 of the manifest's own JSON with that one field left out (compact, keys in file order), so
 * an edit to the manifest is caught as well as a changed file, while re-indenting it is not.
 * A manifest without `checksums` comes from a triage that did not record them: it still loads, unverified.
 */
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BUILD_OWNER_FILE } from "../common/atomic.js";
import { TriageError } from "../common/errors.js";

export const CHECKSUM_ALGORITHM = "sha256";
const MANIFEST_FILE = "manifest.json";

export interface ArtifactChecksums {
  algorithm: typeof CHECKSUM_ALGORITHM;
  /** SHA-256 (hex) of the manifest's JSON without this field. */
  manifest: string;
  /** Relative path -> SHA-256 (hex) of every other file. */
  files: Record<string, string>;
}

/**
 * SHA-256 of a file. Read whole, asynchronously, and hashed in one call: at ~2 GB/s (SHA extensions)
 * the hash of a 20 MB index blocks for ~10 ms, while reading it as a 64 KB stream took several times longer.
 */
export async function sha256File(path: string): Promise<string> {
  return createHash(CHECKSUM_ALGORITHM).update(await readFile(path)).digest("hex");
}

/** Checksums of every file under `dir` except the manifest (and a build's owner file), sorted by path. */
export async function checksumFiles(dir: string): Promise<Record<string, string>> {
  const paths: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (p !== MANIFEST_FILE && p !== BUILD_OWNER_FILE) paths.push(p);
    }
  };
  walk("");
  paths.sort();
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = await sha256File(join(dir, p));
  return out;
}

/** The digest `checksums.manifest` holds: the manifest's JSON with that field left out. */
export function manifestDigest(manifest: object): string {
  const { checksums, ...rest } = manifest as { checksums?: Partial<ArtifactChecksums> };
  const withoutSelf = checksums === undefined ? rest : { ...rest, checksums: { ...checksums, manifest: undefined } };
  return createHash(CHECKSUM_ALGORITHM).update(JSON.stringify(withoutSelf)).digest("hex");
}

/** The manifest with `checksums` set: the files' digests and then its own. */
export function sealManifest<T extends object>(manifest: T, files: Record<string, string>): T & { checksums: ArtifactChecksums } {
  // Round-trip first: the digest must be of exactly what a reader will parse back.
  const plain = JSON.parse(JSON.stringify({ ...manifest, checksums: { algorithm: CHECKSUM_ALGORITHM, manifest: "", files } })) as T & { checksums: ArtifactChecksums };
  plain.checksums.manifest = manifestDigest(plain);
  return plain;
}

/**
 * Verifies the artifact in `dir` against its manifest (as parsed from manifest.json): the manifest's
 * own digest, then every listed file, and that each of `required` is listed. Throws a TriageError
 * naming the first file that fails. Returns false, verifying nothing, when the manifest has no checksums.
 */
export async function verifyChecksums(dir: string, manifest: object, required: readonly string[]): Promise<boolean> {
  const raw = (manifest as { checksums?: unknown }).checksums;
  const manifestPath = join(dir, MANIFEST_FILE);
  if (raw === undefined) return false;
  const c = raw as Partial<ArtifactChecksums>;
  const hex = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  if (c.algorithm !== CHECKSUM_ALGORITHM || !hex(c.manifest) || typeof c.files !== "object" || c.files === null || !Object.values(c.files).every(hex))
    throw new TriageError(`${manifestPath}: malformed "checksums" (expected algorithm sha256, a manifest digest and one digest per file); the artifact is damaged, retrain it`);
  if (manifestDigest(manifest) !== c.manifest)
    throw new TriageError(`${manifestPath}: does not match its recorded checksum (edited or corrupted); retrain the model or restore the artifact`);
  const files = c.files as Record<string, string>;
  for (const rel of required)
    if (!(rel in files)) throw new TriageError(`${manifestPath}: records no checksum for ${rel}; the artifact is damaged, retrain it`);
  for (const [rel, expected] of Object.entries(files)) {
    if (rel.split("/").some((part) => part === ".." || part === "") || rel.startsWith("/"))
      throw new TriageError(`${manifestPath}: checksum entry "${rel}" is not a path inside the artifact`);
    const path = join(dir, rel);
    let actual: string;
    try {
      actual = await sha256File(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TriageError(`${path}: ${code === "ENOENT" ? "missing" : `unreadable (${code ?? (err as Error).message})`}; the artifact is damaged, retrain it or restore the file`);
    }
    if (actual !== expected) throw new TriageError(`${path}: checksum does not match the manifest (corrupted or replaced); retrain the model or restore the artifact`);
  }
  return true;
}
