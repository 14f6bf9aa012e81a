import { calibrateMargin } from "./calibrate.js";
import type { Calibration } from "../model/confidence.js";
import { stratifiedFolds } from "./folds.js";
import { scoreParts, type PartParams, type PartScores } from "../model/parts.js";
import { fitParts } from "./fit-parts.js";
import { contenders, countCorrect, decideEach, flatten } from "./grid.js";
import type { Augmentation } from "./augment.js";
import { centroidDistribution, combine, decide, knnDistribution, type Combination } from "../model/scoring.js";
import { classificationReport } from "../common/classification.js";
import { percentile } from "../common/stats.js";
import type { PartMetrics } from "../model/artifact.js";

const K_GRID = [5, 10, 20];
const KNN_T_GRID = [0.02, 0.05, 0.1];
const CENTROID_T_GRID = [0.02, 0.05, 0.1];
const WEIGHT_STEP = 0.1;

/**
 * The vectors one fold's parts see, for a stage whose encoder was itself fitted to the training texts
 * (the static stage): each fold refits the encoder without its test examples, as unseen queries meet it.
 */
export type FoldVectors = (fold: number) => Promise<{ vectors: readonly Float32Array[]; augmentation?: readonly Float32Array[] }>;

export interface CrossValidation {
  combination: Combination;
  calibration: Calibration;
  metrics: PartMetrics & { parts: Record<"knn" | "centroid" | "head", PartMetrics> };
  /** Out-of-fold predicted label, margin and nearest-neighbour similarity per example. */
  predicted: Int32Array;
  margins: Float64Array;
  nearest: Float64Array;
  /** Out-of-fold combined scores per example, under the chosen combination (empty for an example not scored). */
  scores: Float64Array[];
}

/**
 * Out-of-fold scores of every part, then a grid search for the combination with the best accuracy
 * (ties within 0.2 points broken by coverage at the target accuracy), then margin calibration on it.
 */
export async function crossValidate(
  texts: readonly string[],
  /** Each example's vector, or per fold (FoldVectors) when the encoder must not have seen the fold. */
  vectors: readonly Float32Array[] | FoldVectors,
  allTargets: readonly number[],
  labels: readonly string[],
  params: PartParams & { folds: number; targetAccuracy: number; noveltyRate: number; seed: number },
  /** Called with the number of folds done so far. */
  onFold?: (foldsDone: number) => void,
  /** Extra head rows with their vectors (from FoldVectors when `vectors` is one); each trains only the folds its source example trains. */
  augmentation?: Augmentation & { vectors?: readonly Float32Array[] },
  /**
   * A fixed split instead of stratified folds: split[i] is example i's fold, -1 for an example that
   * only ever trains. The choices and the returned per-example results then cover the scored examples
   * alone (the others get predicted -1, margin and nearest NaN).
   */
  split?: Int32Array,
): Promise<CrossValidation> {
  const L = labels.length;
  const all = texts.length;
  const fold = split ?? stratifiedFolds(allTargets, params.folds, params.seed);
  const folds = split ? Math.max(0, ...split) + 1 : params.folds;
  const scored = new Array<PartScores>(all);
  const kMax = Math.max(...K_GRID);
  let done = 0;
  // Folds fit side by side: their heads train on worker threads (see fitParts).
  const fitFold = async (f: number): Promise<void> => {
    const train = [...fold.keys()].filter((i) => fold[i] !== f);
    const test = [...fold.keys()].filter((i) => fold[i] === f);
    if (test.length === 0) return;
    const extra = augmentation ? [...augmentation.source.keys()].filter((j) => fold[augmentation.source[j]] !== f) : [];
    const seen = typeof vectors === "function" ? await vectors(f) : { vectors, augmentation: augmentation?.vectors };
    const extraVectors = seen.augmentation;
    if (augmentation && !extraVectors) throw new Error("crossValidate: augmentation rows need vectors");
    const fitted = await fitParts(
      train.map((i) => texts[i]),
      train.map((i) => seen.vectors[i]),
      train.map((i) => allTargets[i]),
      L,
      params,
      augmentation &&
        extraVectors && {
          texts: extra.map((j) => augmentation.texts[j]),
          vectors: extra.map((j) => extraVectors[j]),
          targets: extra.map((j) => allTargets[augmentation.source[j]]),
        },
    );
    for (const i of test) scored[i] = scoreParts(fitted, texts[i], seen.vectors[i], kMax);
    onFold?.(++done);
  };
  await Promise.all(Array.from({ length: folds }, (_, f) => fitFold(f)));
  const rows = [...fold.keys()].filter((i) => fold[i] >= 0);
  const n = rows.length;
  const oof = rows.map((i) => scored[i]);
  const targets = rows.map((i) => allTargets[i]);

  const knnBy = new Map<string, Float64Array[]>();
  for (const k of K_GRID)
    for (const t of KNN_T_GRID)
      knnBy.set(
        `${k}/${t}`,
        oof.map((s) => knnDistribution(s.hits, L, k, t)),
      );
  const centBy = new Map<number, Float64Array[]>();
  for (const t of CENTROID_T_GRID)
    centBy.set(
      t,
      oof.map((s) => centroidDistribution(s.centroid, t)),
    );
  const head = oof.map((s) => s.head);
  const flatKnn = new Map([...knnBy].map(([key, rows]) => [key, flatten(rows, L)]));
  const flatCent = new Map([...centBy].map(([t, rows]) => [t, flatten(rows, L)]));
  const flatHead = flatten(head, L);
  const targetArray = Int32Array.from(targets);

  type Candidate = { c: Combination; acc: number };
  const candidates: Candidate[] = [];
  const steps = Math.round(1 / WEIGHT_STEP);
  for (const k of K_GRID)
    for (const kt of KNN_T_GRID)
      for (const ct of CENTROID_T_GRID) {
        const knn = flatKnn.get(`${k}/${kt}`)!;
        const cent = flatCent.get(ct)!;
        const only = contenders(knn, cent, flatHead, n, L);
        for (let a = 0; a <= steps; a++)
          for (let b = 0; a + b <= steps; b++) {
            const c: Combination = { knn: a / steps, centroid: b / steps, head: (steps - a - b) / steps, k, knnTemperature: kt, centroidTemperature: ct };
            // Weights of zero make the temperature/k irrelevant: skip the duplicates.
            if ((c.knn === 0 && (k !== K_GRID[0] || kt !== KNN_T_GRID[0])) || (c.centroid === 0 && ct !== CENTROID_T_GRID[0])) continue;
            const ok = countCorrect(knn, cent, flatHead, c, targetArray, L, only);
            candidates.push({ c, acc: ok / n });
          }
      }
  const bestAcc = Math.max(...candidates.map((x) => x.acc));
  let chosen: { c: Combination; cal: Calibration; predicted: Int32Array; margins: Float64Array } | undefined;
  for (const cand of candidates.filter((x) => x.acc >= bestAcc - 0.002)) {
    const knn = flatKnn.get(`${cand.c.k}/${cand.c.knnTemperature}`)!;
    const cent = flatCent.get(cand.c.centroidTemperature)!;
    const { predicted, margins } = decideEach(knn, cent, flatHead, cand.c, n, L);
    const cal = calibrateMargin(
      [...margins],
      [...predicted].map((p, i) => p === targets[i]),
      params.targetAccuracy,
    );
    if (!chosen || cal.coverage > chosen.cal.coverage) chosen = { c: cand.c, cal, predicted, margins };
  }
  const result = chosen!;
  // Novelty: a query farther from every training example than all but `noveltyRate` of held-out
  // in-scope queries is low-confidence whatever its margin (out-of-scope traffic looks like that).
  const nearest = Float64Array.from(oof, (s) => s.hits[0]?.similarity ?? -1);
  const sortedNearest = [...nearest].sort((a, b) => a - b);
  const minSimilarity = params.noveltyRate > 0 ? percentile(sortedNearest, params.noveltyRate * 100) : -1;
  const calibration: Calibration = { ...result.cal, noveltyRate: params.noveltyRate, minSimilarity };

  const partMetrics = (pred: (i: number) => number): PartMetrics => {
    const p = Int32Array.from({ length: n }, (_, i) => pred(i));
    const r = classificationReport(p, targets, labels);
    return { accuracy: r.accuracy, macroF1: r.macroF1 };
  };
  const bestKnn = knnBy.get(`${result.c.k}/${result.c.knnTemperature}`)!;
  const bestCentroid = centBy.get(result.c.centroidTemperature)!;
  const combined = new Array<Float64Array>(all).fill(new Float64Array(0));
  rows.forEach((i, r) => (combined[i] = combine({ knn: bestKnn[r], centroid: bestCentroid[r], head: head[r] }, result.c)));
  const overall = classificationReport(result.predicted, targets, labels);
  return {
    combination: result.c,
    calibration,
    predicted: spread(result.predicted, rows, new Int32Array(all).fill(-1)),
    margins: spread(result.margins, rows, new Float64Array(all).fill(Number.NaN)),
    nearest: spread(nearest, rows, new Float64Array(all).fill(Number.NaN)),
    scores: combined,
    metrics: {
      accuracy: overall.accuracy,
      macroF1: overall.macroF1,
      parts: {
        knn: partMetrics((i) => decide(bestKnn[i]).best),
        centroid: partMetrics((i) => decide(oof[i].centroid).best),
        head: partMetrics((i) => decide(head[i]).best),
      },
    },
  };
}

/** Per-scored-example values back at their examples' positions in `out`. */
function spread<T extends Int32Array | Float64Array>(values: T, rows: readonly number[], out: T): T {
  if (rows.length === out.length) return values;
  rows.forEach((i, r) => (out[i] = values[r]));
  return out;
}
