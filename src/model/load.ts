/**
 * @module Reading a model artifact back: verified against its checksums, then the parts of each stage,
 * the static encoder and the training examples.
 */
import { join } from "node:path";
import { TriageError } from "../common/errors.js";
import { readJsonlFile } from "../common/jsonl.js";
import { resolveModelDir } from "./registry.js";
import { StaticEncoder } from "../encoders/static.js";
import { readManifest, type Manifest, type StaticStageManifest } from "./artifact.js";
import { ARTIFACT_FILES, requiredFiles, STATIC_ENCODER_DIR } from "./files.js";
import { verifyChecksums } from "./checksums.js";
import type { FittedParts } from "./parts.js";
import { loadParts } from "./parts-io.js";

/** The cascade's fast first stage, read back from the artifact. */
export interface LoadedStaticStage {
  manifest: StaticStageManifest;
  encoder: StaticEncoder;
  parts: FittedParts;
}

/** One training example as the artifact stores it: `id` is its row in the HNSW index. */
export interface ArtifactExample {
  id: number;
  text: string;
  label: string;
}

/** A trained artifact read back into memory: manifest, parts and the training examples. */
export interface LoadedModel {
  /** What was asked for: an artifact dir, or a registry dir (re-resolved on every reload). */
  dir: string;
  /** The artifact dir actually read (a registry's current version). */
  artifactDir: string;
  manifest: Manifest;
  parts: FittedParts;
  examples: ArtifactExample[];
  staticStage?: LoadedStaticStage;
  /** False for an artifact whose manifest has no checksums (written before triage recorded them). */
  verified: boolean;
}

export interface LoadModelOptions {
  /** Told when the artifact cannot be verified (no checksums); default: a process warning. */
  onWarning?: (message: string) => void;
}

/**
 * Reads an artifact (or a registry's current one). Every file is checked against the manifest's
 * SHA-256 before any of it is used, and the weights must be finite; a failure is a TriageError naming
 * the file. An artifact without checksums still loads, after a warning that it is unverified.
 */
export async function loadModel(requested: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const dir = resolveModelDir(requested);
  const manifest = readManifest(dir);
  if ((manifest as { kind?: unknown }).kind === "outcomes")
    throw new TriageError(`${dir}: is an outcome model (triage train --outcomes), not a tier model; load it with OutcomeRouter.load or openRouter`);
  const verified = await verifyChecksums(dir, manifest, requiredFiles(manifest));
  if (!verified) {
    const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, "TriageModel"));
    warn(`${dir}: unverified model: its manifest has no checksums (written by an older triage), so corruption cannot be detected; retrain to get a verified artifact`);
  }
  try {
    const examples = readExamples(dir);
    const labelIndex = new Map(manifest.labels.map((l, i) => [l, i]));
    const rowLabels = Int32Array.from(examples.map((e) => labelIndex.get(e.label) ?? -1));
    const layout = {
      labelCount: manifest.labels.length,
      lexical: manifest.params.lexical,
      hnsw: manifest.params.hnsw,
      denseScale: manifest.params.head.denseScale,
      rowLabels,
    };
    const parts = await loadParts(dir, { ...layout, dims: manifest.encoder.dimensions, centroidLabels: manifest.centroidLabels });
    const s = manifest.stages?.static;
    let staticStage: LoadedStaticStage | undefined;
    if (s) {
      const stageDir = join(dir, s.dir);
      const encoder = await StaticEncoder.load(join(stageDir, STATIC_ENCODER_DIR));
      if (encoder.fingerprint !== s.encoder.fingerprint) throw new TriageError(`${stageDir}: static encoder files do not match the manifest's fingerprint`);
      staticStage = { manifest: s, encoder, parts: await loadParts(stageDir, { ...layout, dims: s.encoder.dimensions, centroidLabels: s.centroidLabels }) };
    }
    return { dir: requested, artifactDir: dir, manifest, parts, examples, staticStage, verified };
  } catch (err) {
    if (err instanceof TriageError) throw err;
    throw new TriageError(`${dir}: cannot load model (${(err as Error).message})`);
  }
}

/** The training examples an artifact holds (examples.jsonl), in index-row order. */
export function readExamples(artifactDir: string): ArtifactExample[] {
  return readJsonlFile(join(artifactDir, ARTIFACT_FILES.examples)) as unknown as ArtifactExample[];
}
