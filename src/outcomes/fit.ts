/**
 * @module Training an outcome model: the estimator chosen by cross-validation, fitted on every prompt,
 * and its dial calibrated on the same cross-validation's out-of-fold predictions. `train --outcomes` and
 * `eval-routing` both train through here, so the artifact and the evaluation route alike.
 */
import { crossValidate, type CvResult } from "./cv.js";
import { calibrateDial, type DialCalibration } from "./dial.js";
import { OutcomePredictor } from "./router.js";
import type { OutcomeSet } from "./set.js";

export interface FitOptions {
  /** Cross-validation folds (default 5). */
  folds?: number;
  seed?: number;
  /** Also try the logistic head and the kNN+logistic blend (default true). */
  logistic?: boolean;
  /** Fold partitions cross-validated (cv.ts; default 1). */
  repeats?: number;
  log?: (message: string) => void;
  /** Worker threads fitting the cross-validation's heads (cv.ts; default TRIAGE_TRAIN_THREADS or the cores). */
  threads?: number;
}

export interface FittedOutcomeModel {
  predictor: OutcomePredictor;
  cv: CvResult;
  calibration: DialCalibration;
}

/** `vectors[i]` is the unit embedding of `set.prompts[i].text`; every cost must be known. */
export async function fitOutcomeModel(set: OutcomeSet, vectors: readonly Float32Array[], options: FitOptions = {}): Promise<FittedOutcomeModel> {
  const log = options.log ?? (() => {});
  const cv = await crossValidate(set, vectors, {
    folds: options.folds,
    seed: options.seed,
    logistic: options.logistic,
    repeats: options.repeats,
    threads: options.threads,
    log,
  });
  const { method, aiq: _aiq, aiqStaircase, saving95: _s, ...params } = cv.best;
  const parts = [cv.bestKnn, cv.bestLogistic, cv.bestSurface].filter((t) => t !== undefined);
  log(`chosen ${method} ${JSON.stringify(params)} (CV staircase AIQ ${aiqStaircase.toFixed(4)}; best ${parts.map((t) => `${t.method} ${t.aiqStaircase.toFixed(4)}`).join(", ")})`);
  const b = cv.best;
  const predictor = OutcomePredictor.fit(set, vectors, { method, knn: b.knn ?? cv.bestKnn.knn!, logistic: b.logistic, surface: b.surface, weights: b.weights });
  const calibration = calibrateDial(set, cv.bestPreds, predictor, b.rule, cv.folds);
  return { predictor, cv, calibration };
}

/** The best trial of each kind that cross-validation tried (kNN, logistic, surface, blend), with its AIQ. */
export function cvSummary(cv: CvResult): { method: string; aiq: number; aiqStaircase: number }[] {
  const blends = cv.trials.filter((t) => t.method === "blend");
  const bestBlend = blends.reduce<CvResult["best"] | undefined>((a, t) => (!a || t.aiqStaircase > a.aiqStaircase ? t : a), undefined);
  return [cv.bestKnn, cv.bestLogistic, cv.bestSurface, bestBlend].filter((t) => t !== undefined).map((t) => ({ method: t.method, aiq: t.aiq, aiqStaircase: t.aiqStaircase }));
}
