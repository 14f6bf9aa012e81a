/**
 * @module One stage's trained parts on disk (the files PART_FILES names) and the checks made on
 * their weights before use.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TriageError } from "../common/errors.js";
import { LexicalFeaturizer, type LexicalParams } from "./lexical.js";
import { VectorIndex, type HnswParams } from "./hnsw.js";
import { PART_FILES } from "./files.js";
import { SoftmaxHead } from "./head.js";
import type { FittedParts } from "./parts.js";

/** Centroids are unit vectors: a norm this far from 1 means the file is not what training wrote. */
const CENTROID_NORM_TOLERANCE = 1e-3;

export async function saveParts(dir: string, parts: FittedParts): Promise<void> {
  await parts.index.save(join(dir, PART_FILES.index));
  const head = new Float32Array(parts.head.weights.length + parts.head.bias.length);
  head.set(parts.head.weights);
  head.set(parts.head.bias, parts.head.weights.length);
  writeFloat32(join(dir, PART_FILES.head), head);
  writeFloat32(join(dir, PART_FILES.centroids), parts.centroids.vectors);
  writeFloat32(join(dir, PART_FILES.idf), parts.lexical.idf);
}

export interface PartsLayout {
  labelCount: number;
  dims: number;
  lexical: LexicalParams;
  hnsw: HnswParams;
  denseScale: number;
  centroidLabels: readonly number[];
  /** Label index of each index row (the training examples, in order). */
  rowLabels: Int32Array;
}

/**
 * Reads one stage's parts. Besides sizes, the weights are checked before use: a NaN or infinity in
 * the head turns every score into NaN, and a centroid that is not a unit vector is not one training
 * wrote; both are refused with the file named (checksums catch the rest, where the manifest has them).
 */
export async function loadParts(dir: string, layout: PartsLayout): Promise<FittedParts> {
  const { labelCount: L, dims } = layout;
  const headPath = join(dir, PART_FILES.head);
  const headData = readFloat32(headPath);
  const width = dims + layout.lexical.buckets;
  if (headData.length !== L * width + L) throw new TriageError(`${headPath}: size does not match the manifest`);
  assertFinite(headPath, headData);
  const centroidsPath = join(dir, PART_FILES.centroids);
  const centroids = readFloat32(centroidsPath);
  if (centroids.length !== layout.centroidLabels.length * dims) throw new TriageError(`${centroidsPath}: size does not match the manifest`);
  assertFinite(centroidsPath, centroids);
  assertUnitRows(centroidsPath, centroids, dims);
  const idfPath = join(dir, PART_FILES.idf);
  const idf = readFloat32(idfPath);
  if (idf.length !== layout.lexical.buckets) throw new TriageError(`${idfPath}: size does not match the manifest`);
  assertFinite(idfPath, idf);
  return {
    labelCount: L,
    lexical: new LexicalFeaturizer(layout.lexical, idf),
    head: new SoftmaxHead(L, dims, layout.lexical.buckets, layout.denseScale, headData.subarray(0, L * width), headData.subarray(L * width)),
    centroids: { vectors: centroids, labels: Int32Array.from(layout.centroidLabels), dims },
    index: await VectorIndex.load(join(dir, PART_FILES.index), dims, layout.hnsw),
    rowLabels: layout.rowLabels,
  };
}

/** Throws a TriageError naming `path` when `values` holds a NaN or an infinity. */
export function assertFinite(path: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i])) throw new TriageError(`${path}: holds a non-finite weight (${values[i]} at value ${i}); the artifact is corrupt, retrain it`);
}

function assertUnitRows(path: string, vectors: Float32Array, dims: number): void {
  for (let r = 0; r * dims < vectors.length; r++) {
    let norm = 0;
    for (let d = r * dims; d < (r + 1) * dims; d++) norm += vectors[d] * vectors[d];
    if (Math.abs(Math.sqrt(norm) - 1) > CENTROID_NORM_TOLERANCE)
      throw new TriageError(`${path}: centroid ${r} is not a unit vector (norm ${Math.sqrt(norm).toFixed(4)}); the artifact is corrupt, retrain it`);
  }
}

/** Little-endian float32 values, as this platform stores them (x86 and ARM alike). */
export function writeFloat32(path: string, data: Float32Array): void {
  writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

/** A copy in its own buffer: Buffer's pooled memory may not be aligned for a Float32Array view. */
export function readFloat32(path: string): Float32Array {
  const buf = readFileSync(path);
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new Float32Array(copy);
}
