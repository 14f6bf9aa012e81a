import { seededRandom, shuffleInPlace } from "../common/random.js";
import { VectorIndex } from "../model/hnsw.js";
import { aiq, aiqStaircase, savingAtHull, type Anchors } from "./metrics.js";
import { anchorsFor } from "./baselines.js";
import { sweepRule, type ChoiceRule } from "./sweep.js";
import { bestModel, columnMean, completeRows, hasEveryScore, modelsByCost, type OutcomeSet } from "./set.js";
import { knnSuccessAt, neighbourRows, setNeighbourRow, type KnnParams, type NeighbourRows } from "./knn.js";
import { appendFeatures, fitScaler, scaleFeatures, surfaceFeatures, type FeatureSet } from "./features.js";
import { DEFAULT_LOGISTIC, predictLogistic } from "./logistic.js";
import { fitLogisticOffThread } from "./logistic-pool.js";
import { trainThreads } from "../common/worker-pool.js";
import type { EstimatorSpec, HeadSpec } from "./router.js";

export type OutcomeMethod = EstimatorSpec["method"];

/** One estimator and choice rule tried in cross-validation. */
export interface CvTrial {
  method: OutcomeMethod;
  knn?: KnnParams;
  logistic?: HeadSpec;
  surface?: HeadSpec;
  weights?: EstimatorSpec["weights"];
  /** The choice rule that scored best with these predictions. */
  rule: ChoiceRule;
  /** RouterBench's AIQ (on the hull) of the rule's sweep over out-of-fold predictions on the training rows. */
  aiq: number;
  /** Saving at 95% of the strongest model's quality on that sweep's hull (out of fold). */
  saving95: number;
  /** AIQ under the staircase of real settings (no mixing; metrics.ts): what the choice maximises. */
  aiqStaircase: number;
}

export interface CvResult {
  best: CvTrial;
  /** The best trial's out-of-fold predictions on the first partition, one per training row. */
  bestPreds: Float64Array[];
  /** The same on every partition (`bestPreds` first): what the dial is calibrated on. */
  bestPartitionPreds: Float64Array[][];
  /** Best kNN trial (used alone or in a blend). */
  bestKnn: CvTrial;
  bestLogistic?: CvTrial;
  bestSurface?: CvTrial;
  trials: CvTrial[];
  /** With `keepAll`: each trial's out-of-fold predictions (first partition), as `trials`. */
  trialPreds?: Float64Array[][];
  folds: number;
  /** Fold partitions each trial was scored on (its figures are the mean over them). */
  repeats: number;
}

export const LOGISTIC_L2 = [1e-4, 1e-3, 1e-2];
export const SURFACE_L2 = [1e-3, 1e-2, 1e-1];
export const FEATURE_SETS: FeatureSet[] = ["basic", "extended"];
/** Blend weights tried (knn, logistic, surface), in quarters. */
const QUARTERS = [0, 0.25, 0.5, 0.75, 1];

export const KNN_GRID = {
  k: [5, 10, 20, 40, 80],
  smoothing: [0.5, 1, 2, 5, 10, 20],
  sharpness: [0, 5, 20],
};

/** Fold id per row, balanced and seeded. */
export function foldIds(n: number, folds: number, seed: number): Int32Array {
  const order = shuffleInPlace([...Array(n).keys()], seededRandom(seed));
  const ids = new Int32Array(n);
  order.forEach((row, i) => (ids[row] = i % folds));
  return ids;
}

/**
 * Each row's list is searched this much deeper than the share of rows in other folds needs: a row then
 * keeps its k out-of-fold neighbours unless rows of its own fold crowd its list far beyond their share.
 */
const DEPTH_MARGIN = 1.5;

/** How deep nearestRows must search for `k` out-of-fold neighbours per row, with `folds` folds of `rows` rows. */
export function outOfFoldDepth(k: number, folds: number, rows: number): number {
  return Math.min(rows, Math.ceil(((k * folds) / Math.max(1, folds - 1)) * DEPTH_MARGIN) + 1);
}

/**
 * Every row's `depth` nearest rows (itself included), from one index over all of them. Each fold
 * partition's out-of-fold neighbours are filtered from these lists (outOfFold) instead of searched in an
 * index per fold: one build and one search per row for any number of partitions (MMLU, 14,042 prompts,
 * 5 partitions: the indexes alone held ~600 MB of native memory until a garbage collection, which native
 * memory does not prompt). Only the neighbours' outcomes count, never a held-out row's, so nothing leaks.
 */
export function nearestRows(vectors: readonly Float32Array[], depth: number): NeighbourRows {
  const rows = neighbourRows(vectors.length, Math.min(depth, vectors.length));
  if (vectors.length === 0) return rows;
  const index = VectorIndex.build(vectors, vectors[0].length);
  vectors.forEach((v, r) => setNeighbourRow(rows, r, index.search(v, rows.stride)));
  return rows;
}

/** For every row, its first `k` neighbours in `nearest` that lie in another fold (fewer when the list runs out). */
export function outOfFold(nearest: NeighbourRows, folds: Int32Array, k: number): NeighbourRows {
  const n = nearest.counts.length;
  const out = neighbourRows(n, k);
  for (let r = 0; r < n; r++) {
    let kept = 0;
    const from = r * nearest.stride;
    for (let j = from; j < from + nearest.counts[r] && kept < k; j++) {
      const id = nearest.ids[j];
      if (folds[id] === folds[r]) continue;
      out.ids[r * k + kept] = id;
      out.similarity[r * k + kept] = nearest.similarity[j];
      kept++;
    }
    out.counts[r] = kept;
  }
  return out;
}

/**
 * What scoring a sweep needs besides the predictions, worked out once per set: the rows every score is
 * known on (which rows of the set they are, when some are not), the models' order by cost, the
 * strongest, their relative costs, and the anchors on those rows.
 */
interface ScoreContext {
  complete: OutcomeSet;
  /** Indexes of the complete rows in the set, or null when every row is complete. */
  kept: number[] | null;
  byCost: number[];
  strong: number;
  relativeCost: Float64Array;
  anchors: Anchors;
}

function scoreContext(set: OutcomeSet): ScoreContext {
  const complete = completeRows(set);
  const kept = complete.prompts.length === set.prompts.length ? null : set.prompts.flatMap((p, i) => (hasEveryScore(p) ? [i] : []));
  const byCost = modelsByCost(set);
  const strong = bestModel(set);
  return { complete, kept, byCost, strong, relativeCost: relativeCosts(set), anchors: anchorsFor(complete, byCost[0], strong) };
}

/** Scores out-of-fold predictions as a router would be scored, on the rule's sweep (the best rule by `criterion`, with more than two models). */
export function routingScore(
  set: OutcomeSet,
  preds: readonly Float64Array[],
  rules: readonly ChoiceRule[] = ["tolerance"],
  context: ScoreContext = scoreContext(set),
): { aiq: number; saving95: number; aiqStaircase: number; rule: ChoiceRule } {
  const { complete, byCost, strong, relativeCost, anchors } = context;
  const kept = context.kept ? context.kept.map((i) => preds[i]) : preds;
  let best = { aiq: -Infinity, saving95: -Infinity, aiqStaircase: -Infinity, rule: rules[0] };
  for (const rule of rules) {
    const points = sweepRule(complete, kept, byCost, relativeCost, strong, rule).points;
    const score = { aiq: aiq(points, anchors), saving95: savingAtHull(points, anchors, 0.95) ?? -Infinity, aiqStaircase: aiqStaircase(points, anchors), rule };
    if (criterion(score) > criterion(best) + 1e-12) best = score;
  }
  return best;
}

/**
 * What cross-validation maximises: AIQ under the staircase of real settings. Hull AIQ rewards curves of a
 * few far-apart settings (it bridges them by mixing), and picked estimators whose real settings served
 * poorly between them (Winogrande: 14.5% saved at 95% on test against 37.3% for this criterion's pick).
 */
function criterion(t: { aiqStaircase: number }): number {
  return t.aiqStaircase;
}

/** Each model's mean cost per prompt over the dearest model's (what the lambda rule prices). */
export function relativeCosts(set: OutcomeSet): Float64Array {
  const mean = Float64Array.from(set.models, (_, m) => columnMean(set, m, "costs"));
  const dearest = Math.max(...mean);
  return mean.map((c) => (dearest > 0 ? c / dearest : 0));
}

/** One partition of the training rows into folds, and what the estimators need of it. */
interface Partition {
  ids: Int32Array;
  /** Each row's nearest neighbours in the other folds. */
  hits: NeighbourRows;
  /** Each fold's per-model mean score without its own rows. */
  priors: Float64Array[];
}

function partition(set: OutcomeSet, nearest: NeighbourRows, folds: number, seed: number): Partition {
  const ids = foldIds(set.prompts.length, folds, seed);
  const hits = outOfFold(nearest, ids, Math.max(...KNN_GRID.k));
  // Priors must exclude the held-out rows too.
  const priors = [...Array(folds).keys()].map((f) => {
    const inside = { ...set, prompts: set.prompts.filter((_, i) => ids[i] !== f) };
    return Float64Array.from(set.models, (_, k) => columnMean(inside, k, "scores") || 0);
  });
  return { ids, hits, priors };
}

export interface CvOptions {
  folds?: number;
  seed?: number;
  /** Also try logistic heads and blends (default true). */
  logistic?: boolean;
  /** Keep every trial's out-of-fold predictions (`trialPreds`). */
  keepAll?: boolean;
  /**
   * Cross-validate over this many fold partitions, seeded `seed`, `seed + 1`, ... (default 1): candidates
   * score within noise of each other, and one partition's luck then decides the pick. Costs `repeats`
   * times the cross-validation (the heads' training most).
   */
  repeats?: number;
  /** Progress, one line per stage (the heads take most of the time). */
  log?: (message: string) => void;
  /** Worker threads fitting the heads (default TRIAGE_TRAIN_THREADS, else the cores up to 4; 1: this thread). */
  threads?: number;
  /** What the embedding heads read of each row (default: its embedding; fit.ts passes a projection of it). */
  headInputs?: readonly Float32Array[];
}

/**
 * Picks the estimator, its settings and the choice rule by k-fold cross-validation on the training rows
 * only: kNN over a grid of k / smoothing / sharpness; when `logistic` (default), logistic heads on the
 * embedding plus surface features and on the surface features alone (each feature set, L2 values), and
 * weighted blends of the best of each kind. Each is scored on pooled out-of-fold predictions (staircase
 * AIQ, see `criterion`), under the tolerance rule and, with more than two models, the lambda rule; with
 * `repeats`, the mean of that over partitions. The best trial's out-of-fold predictions on every partition
 * calibrate the dial (fit.ts).
 */
export async function crossValidate(set: OutcomeSet, vectors: readonly Float32Array[], options: CvOptions = {}): Promise<CvResult> {
  const folds = Math.max(2, Math.min(options.folds ?? 5, set.prompts.length));
  const seed = options.seed ?? 1;
  const repeats = Math.max(1, Math.floor(options.repeats ?? 1));
  const log = options.log ?? (() => {});
  const nearest = nearestRows(vectors, outOfFoldDepth(Math.max(...KNN_GRID.k), folds, set.prompts.length));
  const partitions = [...Array(repeats).keys()].map((r) => partition(set, nearest, folds, seed + r));
  const context = scoreContext(set);
  const rules: ChoiceRule[] = set.models.length > 2 ? ["tolerance", "lambda"] : ["tolerance"];
  const m = set.models.length;
  const scores = new Float64Array(set.prompts.length * m);
  set.prompts.forEach((p, i) => scores.set(p.scores, i * m));
  const trials: CvTrial[] = [];
  const trialPreds: Float64Array[][] = [];
  /** Out-of-fold predictions per partition. */
  type Preds = Float64Array[][];
  type Scored = { trial: CvTrial; preds: Preds };
  const score = (trial: Omit<CvTrial, "aiq" | "rule" | "saving95" | "aiqStaircase">, preds: Preds): Scored => {
    let chosen: { rule: ChoiceRule; aiq: number; saving95: number; aiqStaircase: number } | undefined;
    for (const rule of rules) {
      const each = preds.map((p) => routingScore(set, p, [rule], context));
      const mean = (key: "aiq" | "saving95" | "aiqStaircase") => each.reduce((a, e) => a + e[key], 0) / each.length;
      const s = { rule, aiq: mean("aiq"), saving95: mean("saving95"), aiqStaircase: mean("aiqStaircase") };
      if (!chosen || criterion(s) > criterion(chosen) + 1e-12) chosen = s;
    }
    const t = { ...trial, ...chosen! };
    trials.push(t);
    if (options.keepAll) trialPreds.push(preds[0]);
    return { trial: t, preds };
  };
  const better = (a: Scored | undefined, b: Scored) => (!a || criterion(b.trial) > criterion(a.trial) + 1e-9 ? b : a);
  const result = (best: Scored, parts: { bestKnn: CvTrial; bestLogistic?: CvTrial; bestSurface?: CvTrial }): CvResult => ({
    best: best.trial,
    bestPreds: best.preds[0],
    bestPartitionPreds: best.preds,
    ...parts,
    trials,
    repeats,
    folds,
    ...(options.keepAll ? { trialPreds } : {}),
  });

  const rowScores = set.prompts.map((p) => p.scores);
  /** A head's input for row i, given the row's standardised surface features. */
  type Input = (i: number, features: Float32Array) => Float32Array;
  /**
   * Out-of-fold predictions of a head whose input for row i is `input(i, its surface features)`, the
   * features standardised on the training folds only and computed once per feature set. Every fold of
   * every partition is queued for the worker threads at once; each fold's inputs are built when a worker
   * takes it.
   */
  const rawFeatures = new Map<FeatureSet, number[][]>();
  const headPreds = async (spec: HeadSpec, input: Input): Promise<Preds> => {
    const features = spec.features ?? "basic";
    let raw = rawFeatures.get(features);
    if (!raw) rawFeatures.set(features, (raw = set.prompts.map((p) => surfaceFeatures(p.text, features))));
    return Promise.all(
      partitions.map(async ({ ids }) => {
        const preds = new Array<Float64Array>(set.prompts.length);
        await Promise.all(
          [...Array(folds).keys()].map(async (f) => {
            const inside = [...ids.keys()].filter((i) => ids[i] !== f);
            const scaler = fitScaler(inside.map((i) => raw[i]));
            const x = (i: number) => input(i, scaleFeatures(raw[i], scaler));
            const model = await fitLogisticOffThread(() => ({ inputs: inside.map(x), scores: inside.map((i) => rowScores[i]) }), m, spec, options.threads);
            ids.forEach((id, i) => {
              if (id === f) preds[i] = predictLogistic(model, x(i));
            });
          }),
        );
        return preds;
      }),
    );
  };
  const headInputs = options.headInputs ?? vectors;
  const withEmbedding: Input = (i, features) => appendFeatures(headInputs[i], features);
  const surfaceOnly: Input = (_, features) => features;
  const heads = FEATURE_SETS.flatMap((features) => [
    ...LOGISTIC_L2.map((l2) => ({
      kind: "logistic" as const,
      spec: { ...DEFAULT_LOGISTIC, l2, features },
      input: withEmbedding,
      what: `embedding + ${features} features, L2 ${l2}`,
    })),
    ...SURFACE_L2.map((l2) => ({ kind: "surface" as const, spec: { ...DEFAULT_LOGISTIC, l2, features }, input: surfaceOnly, what: `${features} features alone, L2 ${l2}` })),
  ]);
  const logistic = options.logistic ?? true;
  // With worker threads, the heads fit ahead of their scoring (two ahead), starting while the kNN grid
  // is scored here; on one thread they fit in turn. Scoring stays in order either way: the same pick.
  const ahead = logistic && (options.threads ?? trainThreads()) > 1 ? 2 : 0;
  // A head's entry is dropped once scored: only the best of each kind is kept (in bestLogistic, bestSurface).
  const started: (Promise<Preds> | undefined)[] = [];
  const startHeads = (upTo: number) => {
    while (started.length <= Math.min(upTo, heads.length - 1)) {
      const { spec, input } = heads[started.length];
      started.push(headPreds(spec, input));
    }
  };
  if (ahead > 0) startHeads(ahead - 1);

  let bestKnn: Scored | undefined;
  for (const k of KNN_GRID.k)
    for (const smoothing of KNN_GRID.smoothing)
      for (const sharpness of KNN_GRID.sharpness) {
        const params = { k, smoothing, sharpness };
        bestKnn = better(
          bestKnn,
          score(
            { method: "knn", knn: params },
            partitions.map((part) => Array.from(part.ids, (fold, i) => knnSuccessAt(part.hits, i, scores, part.priors[fold], params))),
          ),
        );
      }
  let best = bestKnn!;
  log(`cross-validation: ${KNN_GRID.k.length * KNN_GRID.smoothing.length * KNN_GRID.sharpness.length} kNN settings scored over ${repeats} partition(s) of ${folds} folds`);
  if (!logistic) return result(best, { bestKnn: best.trial });
  let bestLogistic: Scored | undefined;
  let bestSurface: Scored | undefined;
  for (let h = 0; h < heads.length; h++) {
    startHeads(h + ahead);
    const preds = (await started[h])!;
    started[h] = undefined;
    const { kind, spec, what } = heads[h];
    if (kind === "logistic") bestLogistic = better(bestLogistic, score({ method: "logistic", logistic: spec }, preds));
    else bestSurface = better(bestSurface, score({ method: "surface", surface: spec }, preds));
    log(`cross-validation: head ${h + 1} of ${heads.length} (${what})`);
  }
  best = better(better(best, bestLogistic!), bestSurface!);
  const parts = [bestKnn!.preds, bestLogistic!.preds, bestSurface!.preds];
  for (const wk of QUARTERS)
    for (const wl of QUARTERS) {
      const ws = 1 - wk - wl;
      if (ws < -1e-9 || [wk, wl, ws].filter((w) => w > 1e-9).length < 2) continue; // singles were scored above
      const weights = { knn: wk, logistic: wl, surface: Math.max(0, ws) };
      const preds = partitions.map((_, r) =>
        parts[0][r].map((row, i) => row.map((_, k) => weights.knn * parts[0][r][i][k] + weights.logistic * parts[1][r][i][k] + weights.surface * parts[2][r][i][k])),
      );
      best = better(best, score({ method: "blend", knn: bestKnn!.trial.knn, logistic: bestLogistic!.trial.logistic, surface: bestSurface!.trial.surface, weights }, preds));
    }
  return result(best, { bestKnn: bestKnn!.trial, bestLogistic: bestLogistic!.trial, bestSurface: bestSurface!.trial });
}

/** The best trial of each kind that cross-validation tried (kNN, logistic, surface, blend), with its AIQ. */
export function cvSummary(cv: CvResult): { method: string; aiq: number; aiqStaircase: number }[] {
  const blends = cv.trials.filter((t) => t.method === "blend");
  const bestBlend = blends.reduce<CvResult["best"] | undefined>((a, t) => (!a || t.aiqStaircase > a.aiqStaircase ? t : a), undefined);
  return [cv.bestKnn, cv.bestLogistic, cv.bestSurface, bestBlend].filter((t) => t !== undefined).map((t) => ({ method: t.method, aiq: t.aiq, aiqStaircase: t.aiqStaircase }));
}
