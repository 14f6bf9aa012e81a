import hnswlib from "hnswlib-node";
import { TriageError } from "../common/errors.js";

const { HierarchicalNSW } = hnswlib;

export interface HnswParams {
  /** Graph degree. */
  M: number;
  efConstruction: number;
  efSearch: number;
}

export const DEFAULT_HNSW: HnswParams = { M: 16, efConstruction: 200, efSearch: 64 };

export interface Hit {
  /** Row id given at insertion (the example's index). */
  id: number;
  /** Inner product = cosine similarity for unit vectors. */
  similarity: number;
}

/** Approximate nearest neighbours over unit vectors (inner product), backed by hnswlib-node. */
export class VectorIndex {
  private constructor(
    private readonly index: InstanceType<typeof HierarchicalNSW>,
    readonly dimensions: number,
    readonly params: HnswParams,
  ) {}

  static build(vectors: readonly Float32Array[], dimensions: number, params: HnswParams = DEFAULT_HNSW): VectorIndex {
    const index = new HierarchicalNSW("ip", dimensions);
    index.initIndex(Math.max(1, vectors.length), params.M, params.efConstruction, 100);
    vectors.forEach((v, i) => {
      if (v.length !== dimensions) throw new TriageError(`vector ${i} has ${v.length} dimensions, expected ${dimensions}`);
      index.addPoint(Array.from(v), i);
    });
    index.setEf(params.efSearch);
    return new VectorIndex(index, dimensions, params);
  }

  static async load(path: string, dimensions: number, params: HnswParams): Promise<VectorIndex> {
    const index = new HierarchicalNSW("ip", dimensions);
    await index.readIndex(path);
    index.setEf(params.efSearch);
    return new VectorIndex(index, dimensions, params);
  }

  get size(): number {
    return this.index.getCurrentCount();
  }

  async save(path: string): Promise<void> {
    await this.index.writeIndex(path);
  }

  search(vector: Float32Array, k: number): Hit[] {
    const n = Math.min(k, this.size);
    if (n === 0) return [];
    const { neighbors, distances } = this.index.searchKnn(Array.from(vector), n);
    // hnswlib's "ip" distance is 1 - dot.
    return neighbors.map((id, i) => ({ id, similarity: 1 - distances[i] }));
  }
}
