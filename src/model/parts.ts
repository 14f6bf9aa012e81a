import { LexicalFeaturizer, type LexicalParams } from "./lexical.js";
import { VectorIndex, type Hit, type HnswParams } from "./hnsw.js";
import { buildCentroids, centroidScores, type CentroidParams, type CentroidSet } from "./centroids.js";
import type { HeadParams, SoftmaxHead } from "./head.js";
import { trainHead } from "../train/head-pool.js";
import type { LabelledHit } from "./scoring.js";

export interface PartParams {
  hnsw: HnswParams;
  head: HeadParams;
  centroids: CentroidParams;
  lexical: LexicalParams;
}

/** The three trained parts of a router plus the lexical featurizer they share. */
export interface FittedParts {
  labelCount: number;
  lexical: LexicalFeaturizer;
  head: SoftmaxHead;
  centroids: CentroidSet;
  index: VectorIndex;
  /** Label index of each row of the HNSW index. */
  rowLabels: Int32Array;
}

/** Extra rows for the head alone (e.g. word-dropout copies): the index and centroids keep real examples only. */
export interface HeadRows {
  texts: readonly string[];
  vectors: readonly Float32Array[];
  targets: readonly number[];
}

/** Each part's raw opinion of one query. */
export interface PartScores {
  hits: (LabelledHit & Hit)[];
  centroid: Float64Array;
  head: Float64Array;
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

/**
 * Each part's opinion of one query. `skip` leaves out parts whose combination weight is zero: on the
 * hot path a centroid scan alone costs as much as the rest (labels × centroids × dims multiply-adds).
 */
export function scoreParts(parts: FittedParts, text: string, vector: Float32Array, k: number, skip: { centroid?: boolean; head?: boolean } = {}): PartScores {
  const hits = parts.index.search(vector, k).map((h) => ({ ...h, label: parts.rowLabels[h.id] }));
  const L = parts.labelCount;
  const centroid = skip.centroid ? new Float64Array(L) : centroidScores(parts.centroids, vector, L);
  const head = skip.head ? new Float64Array(L) : parts.head.probabilities({ dense: vector, sparse: parts.lexical.transform(text) });
  return { hits, centroid, head };
}
