/**
 * @module Fitting per-label centroids (spherical k-means); model/centroids.ts holds the set and scores with it.
 */
import { dot, normalize } from "../common/vector.js";
import { seededRandom } from "../common/random.js";
import { DEFAULT_CENTROIDS, type CentroidParams, type CentroidSet } from "../model/centroids.js";

/** Per-label spherical k-means (k-means++ seeding), k chosen from the label's size. */
export function buildCentroids(vectors: readonly Float32Array[], targets: readonly number[], labelCount: number, params: CentroidParams = DEFAULT_CENTROIDS): CentroidSet {
  const dims = vectors[0]?.length ?? 0;
  const out: Float32Array[] = [];
  const outLabels: number[] = [];
  const random = seededRandom(params.seed);
  for (let l = 0; l < labelCount; l++) {
    const members = vectors.filter((_, i) => targets[i] === l);
    if (members.length === 0) continue;
    const k = Math.max(1, Math.min(params.maxPerLabel, Math.floor(members.length / params.minExamplesPerCentroid)));
    for (const c of sphericalKMeans(members, k, random)) {
      out.push(c);
      outLabels.push(l);
    }
  }
  const flat = new Float32Array(out.length * dims);
  out.forEach((c, i) => flat.set(c, i * dims));
  return { vectors: flat, labels: Int32Array.from(outLabels), dims };
}

function sphericalKMeans(points: readonly Float32Array[], k: number, random: () => number, iterations = 15): Float32Array[] {
  const dims = points[0].length;
  const mean = (members: readonly Float32Array[]) => {
    const c = new Float32Array(dims);
    for (const p of members) for (let i = 0; i < dims; i++) c[i] += p[i];
    return normalize(c);
  };
  if (k === 1) return [mean(points)];
  // k-means++ seeding on cosine distance.
  const centres: Float32Array[] = [points[Math.floor(random() * points.length)]];
  while (centres.length < k) {
    const d = points.map((p) => Math.max(0, 1 - Math.max(...centres.map((c) => dot(p, c)))) ** 2);
    const total = d.reduce((a, b) => a + b, 0);
    let r = random() * total;
    let pick = 0;
    for (; pick < d.length - 1 && r > d[pick]; pick++) r -= d[pick];
    centres.push(points[pick]);
  }
  let assign = new Int32Array(points.length);
  for (let it = 0; it < iterations; it++) {
    const next = points.map((p) => {
      let best = 0;
      for (let c = 1; c < centres.length; c++) if (dot(p, centres[c]) > dot(p, centres[best])) best = c;
      return best;
    });
    const changed = next.some((a, i) => a !== assign[i]);
    assign = Int32Array.from(next);
    for (let c = 0; c < centres.length; c++) {
      const members = points.filter((_, i) => assign[i] === c);
      if (members.length > 0) centres[c] = mean(members);
    }
    if (!changed && it > 0) break;
  }
  return centres;
}
