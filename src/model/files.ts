/**
 * @module The names of every file and folder of a model artifact and of a registry, in one place:
 * the ones an artifact's checksums must cover, and the rule for when `train` may replace an existing
 * directory (it holds a triage artifact and nothing else). Only model/ reads and writes them.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LEFTOVER_NAME, type DirOwner } from "../common/atomic.js";
import { STATIC_BINARY_FILE, STATIC_HEADER_FILE } from "../encoders/static.js";
import type { StaticStageManifest } from "./artifact.js";

/** Files at the top of an artifact directory. */
export const ARTIFACT_FILES = { manifest: "manifest.json", examples: "examples.jsonl" } as const;

/** Files holding one stage's trained parts, inside its directory. */
export const PART_FILES = { index: "index.hnsw", head: "head.bin", centroids: "centroids.bin", idf: "idf.bin" } as const;

/** Sub-directory of an artifact holding the static (fast-path) stage. */
export const STATIC_STAGE_DIR = "static";

/** Sub-directory of the static stage holding its encoder. */
export const STATIC_ENCODER_DIR = "encoder";

/** Written into a registry version after training (retrain's report). */
export const RETRAIN_REPORT_FILE = "retrain-report.json";

/** A registry's pointer file (JSON naming the current version) and the folder of its versions. */
export const POINTER_FILE = "current";
export const VERSIONS_DIR = "versions";

/** True when `dir` holds a trained artifact: its manifest, written last, is there. */
export function hasArtifact(dir: string): boolean {
  return existsSync(join(dir, ARTIFACT_FILES.manifest));
}

/**
 * Files the loader reads, relative to the artifact: each must have a checksum in a verified artifact.
 * A manifest of another kind (`kind`, e.g. an outcome model) names its files in its own stage; here,
 * where registries copy and verify any kind, its files are those its checksums list, and its own loader
 * checks that the ones it reads are among them.
 */
export function requiredFiles(manifest: { kind?: unknown; stages?: { static?: Pick<StaticStageManifest, "dir"> }; checksums?: { files?: Record<string, string> } }): string[] {
  if (manifest.kind !== undefined) return Object.keys(manifest.checksums?.files ?? {}).sort();
  const parts = Object.values(PART_FILES);
  const out: string[] = [ARTIFACT_FILES.examples, ...parts];
  const s = manifest.stages?.static;
  if (s) out.push(...parts.map((p) => `${s.dir}/${p}`), `${s.dir}/${STATIC_ENCODER_DIR}/${STATIC_HEADER_FILE}`, `${s.dir}/${STATIC_ENCODER_DIR}/${STATIC_BINARY_FILE}`);
  return out;
}

/** Every name triage writes into an artifact directory, as a tree (null: a file). */
type Layout = { [name: string]: Layout | null };
const partLayout: Layout = Object.fromEntries(Object.values(PART_FILES).map((f) => [f, null]));
const ARTIFACT_LAYOUT: Layout = {
  [ARTIFACT_FILES.manifest]: null,
  [ARTIFACT_FILES.examples]: null,
  [RETRAIN_REPORT_FILE]: null,
  ...partLayout,
  [STATIC_STAGE_DIR]: { ...partLayout, [STATIC_ENCODER_DIR]: { [STATIC_HEADER_FILE]: null, [STATIC_BINARY_FILE]: null } },
};

/**
 * A directory `train --out` may replace: its manifest.json reads as a triage manifest (a JSON object
 * with schemaVersion, version, encoder and labels), and every entry, down the static stage, is a name
 * triage writes there (or a leftover temporary of a killed write). So replacing it deletes nothing a
 * user put there: a folder of notes, the training data, a registry or a web app's manifest.json are
 * all refused.
 */
export const artifactOwner: DirOwner = {
  what: "a triage model",
  refuse(dir) {
    if (existsSync(join(dir, POINTER_FILE)) || existsSync(join(dir, VERSIONS_DIR))) return "it is a model registry; add a version with --registry instead";
    const path = join(dir, ARTIFACT_FILES.manifest);
    if (!existsSync(path)) return `no ${ARTIFACT_FILES.manifest}`;
    if (!looksLikeManifest(path)) return `its ${ARTIFACT_FILES.manifest} is not a triage manifest`;
    const stray = strayEntry(dir, "", ARTIFACT_LAYOUT);
    return stray === undefined ? undefined : `it also holds ${stray}, which triage did not write`;
  },
};

function looksLikeManifest(path: string): boolean {
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown> | null;
    return (
      typeof m === "object" &&
      m !== null &&
      typeof m.schemaVersion === "number" &&
      typeof m.version === "string" &&
      typeof m.encoder === "object" &&
      m.encoder !== null &&
      Array.isArray(m.labels)
    );
  } catch {
    return false;
  }
}

/** The first entry of an artifact directory that triage did not write there, skipping `skip` at its top (relative path), or undefined. */
export function foreignArtifactEntry(dir: string, skip: readonly string[] = []): string | undefined {
  return strayEntry(dir, "", ARTIFACT_LAYOUT, new Set(skip));
}

/** The first entry under `dir/rel` that is not in `layout` (relative path), or undefined. */
function strayEntry(dir: string, rel: string, layout: Layout, skip: ReadonlySet<string> = new Set()): string | undefined {
  for (const name of readdirSync(join(dir, rel))) {
    const path = rel ? `${rel}/${name}` : name;
    if (LEFTOVER_NAME.test(name) || (rel === "" && skip.has(name))) continue;
    if (!Object.hasOwn(layout, name)) return path;
    const sub = layout[name];
    const st = lstatSync(join(dir, path)); // a link is never something triage wrote
    if (sub === null ? !st.isFile() : !st.isDirectory()) return path;
    if (sub !== null) {
      const stray = strayEntry(dir, path, sub);
      if (stray !== undefined) return stray;
    }
  }
  return undefined;
}
