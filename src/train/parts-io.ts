import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { TriageError } from "../common/errors.js";
import { LexicalFeaturizer, type LexicalParams } from "../encoders/lexical.js";
import { VectorIndex, type HnswParams } from "../index/hnsw.js";
import { readFloat32, writeFloat32 } from "./artifact.js";
import { SoftmaxHead } from "./head.js";
import type { FittedParts } from "./parts.js";

/** Files holding one stage's trained parts, inside its directory. */
export const PART_FILES = { index: "index.hnsw", head: "head.bin", centroids: "centroids.bin", idf: "idf.bin" } as const;

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

export async function loadParts(dir: string, layout: PartsLayout): Promise<FittedParts> {
  const { labelCount: L, dims } = layout;
  const headData = readFloat32(join(dir, PART_FILES.head));
  const width = dims + layout.lexical.buckets;
  if (headData.length !== L * width + L) throw new TriageError(`${join(dir, PART_FILES.head)}: size does not match the manifest`);
  return {
    labelCount: L,
    lexical: new LexicalFeaturizer(layout.lexical, readFloat32(join(dir, PART_FILES.idf))),
    head: new SoftmaxHead(L, dims, layout.lexical.buckets, layout.denseScale, headData.subarray(0, L * width), headData.subarray(L * width)),
    centroids: { vectors: readFloat32(join(dir, PART_FILES.centroids)), labels: Int32Array.from(layout.centroidLabels), dims },
    index: await VectorIndex.load(join(dir, PART_FILES.index), dims, layout.hnsw),
    rowLabels: layout.rowLabels,
  };
}
