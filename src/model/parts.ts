/**
 * @module A stage's three trained parts (HNSW index, centroids, softmax head) and the lexical features
 * they share, and each part's opinion of a query. Fitting them is train/fit-parts.ts; their files, parts-io.ts.
 */
import type { LexicalFeaturizer, LexicalParams } from "./lexical.js";
import type { Hit, HnswParams, VectorIndex } from "./hnsw.js";
import { centroidScores, type CentroidParams, type CentroidSet } from "./centroids.js";
import type { HeadParams, SoftmaxHead } from "./head.js";
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

/** Each part's raw opinion of one query. */
export interface PartScores {
  hits: (LabelledHit & Hit)[];
  centroid: Float64Array;
  head: Float64Array;
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
