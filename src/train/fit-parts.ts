/**
 * @module Fitting a stage's three parts (model/parts.ts): the head trains on a worker thread while this
 * thread builds the lexical features, centroids and HNSW index.
 */
import { LexicalFeaturizer } from "../model/lexical.js";
import { VectorIndex } from "../model/hnsw.js";
import type { FittedParts, PartParams } from "../model/parts.js";
import { buildCentroids } from "./centroids.js";
import { trainHead } from "./head-pool.js";

/** Extra rows for the head alone (e.g. word-dropout copies): the index and centroids keep real examples only. */
export interface HeadRows {
  texts: readonly string[];
  vectors: readonly Float32Array[];
  targets: readonly number[];
}

/** Fits the three parts; the head trains on a worker thread (head-pool.ts) while this thread builds the rest. */
export async function fitParts(
  texts: readonly string[],
  vectors: readonly Float32Array[],
  targets: readonly number[],
  labelCount: number,
  params: PartParams,
  extra?: HeadRows,
): Promise<FittedParts> {
  const lexical = LexicalFeaturizer.fit(texts, params.lexical);
  const rows = { texts: [...texts, ...(extra?.texts ?? [])], vectors: [...vectors, ...(extra?.vectors ?? [])], targets: [...targets, ...(extra?.targets ?? [])] };
  const inputs = rows.texts.map((t, i) => ({ dense: rows.vectors[i], sparse: lexical.transform(t) }));
  const training = trainHead(inputs, rows.targets, labelCount, params.lexical.buckets, params.head);
  const centroids = buildCentroids(vectors, targets, labelCount, params.centroids);
  const index = VectorIndex.build(vectors, vectors[0].length, params.hnsw);
  return { labelCount, lexical, head: await training, centroids, index, rowLabels: Int32Array.from(targets) };
}
