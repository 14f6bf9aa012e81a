/**
 * @module SHA-256 checksums of a model artifact, recorded in its manifest and verified before use.
 *
 * `manifest.checksums.files` maps every file of the artifact (path relative to the artifact, `/`
 * separators; the manifest itself excluded) to its SHA-256. `manifest.checksums.manifest` is the
 * SHA-256 of the manifest's own JSON with that one field left out (compact, keys in file order), so
 * an edit to the manifest is caught as well as a changed file, while re-indenting it is not.
 * A manifest without `checksums` comes from a triage that did not record them: it still loads, unverified.
 */
import { createHash, webcrypto } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BUILD_OWNER_FILE } from "../common/atomic.js";
import { TriageError } from "../common/errors.js";
import { ARTIFACT_FILES } from "./files.js";

export const CHECKSUM_ALGORITHM = "sha256";

export interface ArtifactChecksums {
  algorithm: typeof CHECKSUM_ALGORITHM;
  /** SHA-256 (hex) of the manifest's JSON without this field. */
  manifest: string;
  /** Relative path -> SHA-256 (hex) of every other file. */
  files: Record<string, string>;
}

/**
 * SHA-256 of a file, read whole. WebCrypto hashes on libuv's thread pool, so the files of an
 * artifact are hashed in parallel and a hot reload does not stall the event loop for the whole
 * artifact (a 52 MB Banking77 model: ~35 ms, longest stall ~7 ms, vs ~25 ms with node:crypto on
 * the main thread); a 64 KB read stream was several times slower still.
 */
export async function sha256File(path: string): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", await readFile(path))).toString("hex");
}

/** Checksums of every file under `dir` except the manifest (and a build's owner file), sorted by path. */
export async function checksumFiles(dir: string): Promise<Record<string, string>> {
  const paths: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (p !== ARTIFACT_FILES.manifest && p !== BUILD_OWNER_FILE) paths.push(p);
    }
  };
  walk("");
  paths.sort();
  const digests = await Promise.all(paths.map((p) => sha256File(join(dir, p))));
  return Object.fromEntries(paths.map((p, i) => [p, digests[i]]));
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
  const manifestPath = join(dir, ARTIFACT_FILES.manifest);
  if (raw === undefined) return false;
  const c = raw as Partial<ArtifactChecksums>;
  const hex = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
  if (c.algorithm !== CHECKSUM_ALGORITHM || !hex(c.manifest) || typeof c.files !== "object" || c.files === null || !Object.values(c.files).every(hex))
    throw new TriageError(`${manifestPath}: malformed "checksums" (expected algorithm sha256, a manifest digest and one digest per file); the artifact is damaged, retrain it`);
  if (manifestDigest(manifest) !== c.manifest)
    throw new TriageError(`${manifestPath}: does not match its recorded checksum (edited or corrupted); retrain the model or restore the artifact`);
  const files = c.files as Record<string, string>;
  for (const rel of required) if (!(rel in files)) throw new TriageError(`${manifestPath}: records no checksum for ${rel}; the artifact is damaged, retrain it`);
  const entries = Object.entries(files);
  for (const [rel] of entries)
    if (rel.split("/").some((part) => part === ".." || part === "") || rel.startsWith("/"))
      throw new TriageError(`${manifestPath}: checksum entry "${rel}" is not a path inside the artifact`);
  // All at once (see sha256File); the first failure in the manifest's order is reported.
  const actual = await Promise.all(entries.map(([rel]) => sha256File(join(dir, rel)).catch((err: NodeJS.ErrnoException) => err)));
  entries.forEach(([rel, expected], i) => {
    const path = join(dir, rel);
    const got = actual[i];
    if (got instanceof Error)
      throw new TriageError(`${path}: ${got.code === "ENOENT" ? "missing" : `unreadable (${got.code ?? got.message})`}; the artifact is damaged, retrain it or restore the file`);
    if (got !== expected) throw new TriageError(`${path}: checksum does not match the manifest (corrupted or replaced); retrain the model or restore the artifact`);
  });
  return true;
}
