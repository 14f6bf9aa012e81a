/**
 * @module Training an outcome model: the estimator chosen by cross-validation, fitted on every prompt,
 * and its dial calibrated on the same cross-validation's out-of-fold predictions. `train --outcomes` and
 * `eval-routing` both train through here, so the artifact and the evaluation route alike.
 */
import { crossValidate, type CvResult } from "./cv.js";
import { calibrateDial, type DialCalibration } from "./dial.js";
import { OutcomePredictor, headInput } from "./router.js";
import { fitPca } from "../train/pca.js";
import type { OutcomeSet } from "./set.js";

export interface FitOptions {
  /** Cross-validation folds (default 5). */
  folds?: number;
  seed?: number;
  /** Also try the logistic head and the kNN+logistic blend (default true). */
  logistic?: boolean;
  /** Fold partitions cross-validated (cv.ts; default defaultCvRepeats of the prompt count). */
  repeats?: number;
  /** Embedding dimensions the logistic head reads, its top principal directions (default DEFAULT_HEAD_DIMENSIONS; 0: the whole embedding). */
  headDimensions?: number;
  log?: (message: string) => void;
  /** Worker threads fitting the cross-validation's heads (cv.ts; default TRIAGE_TRAIN_THREADS or the cores). */
  threads?: number;
}

/**
 * Fold partitions the estimator is chosen over, at most. On a few hundred prompts the candidates score within
 * noise of each other and one partition's luck picks among them (GSM8K's test saving at 95%: 34.0% with one
 * partition, 44.5% with five; MMLU's moves within its interval, 49.4% against 47.8%). Heads on the
 * projection below pay for most of it, and all partitions share one neighbour search (cv.ts): five take
 * about three times as long as one (MMLU's eval-routing: 108 s against 34 s), where on the whole
 * embedding, each partition searching its own, they took five.
 */
export const DEFAULT_CV_REPEATS = 5;

/**
 * Out-of-fold predictions the choice should be scored on: partitions are added until there are this many,
 * up to DEFAULT_CV_REPEATS. On all 14,042 MMLU prompts one, three and five partitions choose the same
 * estimator (staircase AIQ 76.45, 76.46, 76.47), in 56, 126 and 213 s; on 45,000 prompts one takes 308 s
 * and 1.2 GB where five take 1,059 s and 2.0 GB (scripts/bench-outcomes-scale.ts).
 */
const CV_PREDICTIONS = 50_000;

/** The default count of fold partitions for `prompts` training prompts: 5 up to 10,000, then fewer, 1 from 25,001. */
export function defaultCvRepeats(prompts: number): number {
  return Math.max(1, Math.min(DEFAULT_CV_REPEATS, Math.floor(CV_PREDICTIONS / Math.max(1, prompts))));
}

/**
 * Principal directions of the embedding the logistic head reads. 128 of USE-Lite's 512 cross-validate
 * as well (AIQ within 0.07 points on GSM8K, MMLU, ARC and Winogrande) and fit about 3.6 times faster.
 * The projection is fitted on all the training prompts' embeddings (data files are often sorted by
 * topic, so not the first few thousand), without their labels, once: every fold of cross-validation
 * reads the same one.
 */
export const DEFAULT_HEAD_DIMENSIONS = 128;

export interface FittedOutcomeModel {
  predictor: OutcomePredictor;
  cv: CvResult;
  calibration: DialCalibration;
}

/** `vectors[i]` is the unit embedding of `set.prompts[i].text`; every cost must be known. */
export async function fitOutcomeModel(set: OutcomeSet, vectors: readonly Float32Array[], options: FitOptions = {}): Promise<FittedOutcomeModel> {
  const log = options.log ?? (() => {});
  const dims = options.headDimensions ?? DEFAULT_HEAD_DIMENSIONS;
  const projection = options.logistic !== false && dims > 0 && dims < (vectors[0]?.length ?? 0) ? fitPca(vectors, dims, Infinity) : undefined;
  const cv = await crossValidate(set, vectors, {
    folds: options.folds,
    seed: options.seed,
    logistic: options.logistic,
    repeats: options.repeats ?? defaultCvRepeats(set.prompts.length),
    threads: options.threads,
    headInputs: projection && vectors.map((v) => headInput(v, projection)),
    log,
  });
  const { method, aiq: _aiq, aiqStaircase, saving95: _s, ...params } = cv.best;
  const parts = [cv.bestKnn, cv.bestLogistic, cv.bestSurface].filter((t) => t !== undefined);
  log(`chosen ${method} ${JSON.stringify(params)} (CV staircase AIQ ${aiqStaircase.toFixed(4)}; best ${parts.map((t) => `${t.method} ${t.aiqStaircase.toFixed(4)}`).join(", ")})`);
  const b = cv.best;
  const predictor = OutcomePredictor.fit(set, vectors, { method, knn: b.knn ?? cv.bestKnn.knn!, logistic: b.logistic, surface: b.surface, weights: b.weights }, projection);
  const calibration = calibrateDial(set, cv.bestPartitionPreds, predictor, b.rule, cv.folds);
  return { predictor, cv, calibration };
}
