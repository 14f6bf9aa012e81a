import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LexicalFeaturizer } from "../encoders/lexical.js";
import { VectorIndex } from "../index/hnsw.js";
import { ARTIFACT_FILES, readFloat32, readManifest, type Manifest } from "../train/artifact.js";
import { SoftmaxHead } from "../train/head.js";
import type { FittedParts } from "../train/parts.js";
import { TriageError } from "../common/errors.js";
import { resolveModelDir } from "../retrain/registry.js";

/** A trained artifact read back into memory: manifest, parts and the training examples. */
export interface LoadedModel {
  /** What was asked for: an artifact dir, or a registry dir (then re-resolved on every reload). */
  dir: string;
  /** The artifact dir actually read (a registry's current version). */
  artifactDir: string;
  manifest: Manifest;
  parts: FittedParts;
  examples: { text: string; label: string }[];
}

export async function loadModel(dir: string): Promise<LoadedModel> {
  const artifactDir = resolveModelDir(dir);
  const manifest = readManifest(artifactDir);
  const file = (name: string) => join(artifactDir, name);
  try {
    const L = manifest.labels.length;
    const dims = manifest.encoder.dimensions;
    const { lexical: lexParams, head: headParams, hnsw } = manifest.params;
    const headData = readFloat32(file(ARTIFACT_FILES.head));
    const width = dims + lexParams.buckets;
    if (headData.length !== L * width + L) throw new TriageError(`${file(ARTIFACT_FILES.head)}: size does not match the manifest`);
    const head = new SoftmaxHead(L, dims, lexParams.buckets, headParams.denseScale, headData.subarray(0, L * width), headData.subarray(L * width));
    const centroidVectors = readFloat32(file(ARTIFACT_FILES.centroids));
    const lexical = new LexicalFeaturizer(lexParams, readFloat32(file(ARTIFACT_FILES.idf)));
    const examples = readFileSync(file(ARTIFACT_FILES.examples), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { id: number; text: string; label: string });
    const index = await VectorIndex.load(file(ARTIFACT_FILES.index), dims, hnsw);
    const labelIndex = new Map(manifest.labels.map((l, i) => [l, i]));
    const parts: FittedParts = {
      labelCount: L,
      lexical,
      head,
      centroids: { vectors: centroidVectors, labels: Int32Array.from(manifest.centroidLabels), dims },
      index,
      rowLabels: Int32Array.from(examples.map((e) => labelIndex.get(e.label) ?? -1)),
    };
    return { dir, artifactDir, manifest, parts, examples };
  } catch (err) {
    if (err instanceof TriageError) throw err;
    throw new TriageError(`${artifactDir}: cannot load model (${(err as Error).message})`);
  }
}
