/**
 * @module Routing from per-model outcomes (outcomes/): loaders for RouterBench/RouteLLM/long data, targets and
 * prices, the kNN and logistic success estimators, the outcome router with its one quality/cost dial, and
 * the metrics, sweeps, baselines and reports of `triage eval-routing`.
 */

import { TriageError } from "../common/errors.js";
import { VectorIndex } from "../model/hnsw.js";
import { bestModel, columnMean, modelsByCost, type OutcomeSet } from "./set.js";
import { chooseWithin } from "./sweep.js";
import { knnSuccess, type KnnParams } from "./knn.js";
import { fitScaler, surfaceFeatures, withSurfaceFeatures, type FeatureScaler } from "./features.js";
import { fitLogistic, predictLogistic, type LogisticModel, type LogisticParams } from "./logistic.js";

/** Which success estimate the router uses: kNN, a logistic head, or the average of both. */
export interface EstimatorSpec {
  method: "knn" | "logistic" | "blend";
  knn: KnnParams;
  logistic?: LogisticParams;
}

export const DEFAULT_KNN: KnnParams = { k: 20, smoothing: 2, sharpness: 5 };

/** A routing choice with what led to it. */
export interface OutcomeChoice {
  model: string;
  /** Predicted success per model (model order of the training data). */
  predicted: Record<string, number>;
}

/** Everything a fitted estimator is made of: what the artifact stores and reads back. */
export interface EstimatorState {
  /** Model names, in the training data's column order (every per-model array follows it). */
  models: string[];
  index: VectorIndex;
  /** Row-major (training prompt × model) scores; NaN = unknown. */
  scores: Float64Array;
  /** Each model's mean score on the training data (0 when it has none): where smoothing pulls toward. */
  prior: Float64Array;
  /** Each model's mean cost per prompt on the training data (USD). */
  meanCost: Float64Array;
  estimator: EstimatorSpec;
  head?: { model: LogisticModel; scaler: FeatureScaler };
  /** Model indices from cheapest to dearest (mean training cost per prompt). */
  byCost: number[];
  /** Best mean score on the training data: the "strong" model. */
  strong: number;
}

/**
 * Predicts per-model success for a query from per-model outcomes of similar past prompts (kNN-weighted
 * success rate per model, a logistic head, or both), then picks the cheapest model whose predicted
 * success is within `tolerance` of the best (or, the same dial as a price: argmax of predicted − λ·relative cost).
 */
export class OutcomePredictor {
  readonly models: string[];
  /** Model indices from cheapest to dearest (mean training cost per prompt). */
  readonly byCost: number[];
  /** Best mean score on the training data: the "strong" model. */
  readonly strong: number;
  /** Mean cost per prompt of each model, divided by the dearest model's. */
  readonly relativeCost: Float64Array;
  readonly prior: Float64Array;
  readonly estimator: EstimatorSpec;

  private constructor(readonly state: EstimatorState) {
    this.models = state.models;
    this.byCost = state.byCost;
    this.strong = state.strong;
    this.prior = state.prior;
    this.estimator = state.estimator;
    const dearest = Math.max(...state.meanCost);
    this.relativeCost = state.meanCost.map((c) => (dearest > 0 ? c / dearest : 0));
  }

  /** An estimator read back from an artifact (see artifact.ts). */
  static restore(state: EstimatorState): OutcomePredictor {
    return new OutcomePredictor(state);
  }

  /** `vectors[i]` is the unit embedding of `set.prompts[i].text`. Costs must be known (data or price list). */
  static fit(set: OutcomeSet, vectors: readonly Float32Array[], estimator: EstimatorSpec = { method: "knn", knn: DEFAULT_KNN }): OutcomePredictor {
    if (vectors.length !== set.prompts.length) throw new TriageError(`OutcomePredictor.fit: ${vectors.length} vectors for ${set.prompts.length} prompts`);
    if (set.prompts.length === 0) throw new TriageError("OutcomePredictor.fit: no training prompts");
    const m = set.models.length;
    const scores = new Float64Array(set.prompts.length * m);
    set.prompts.forEach((p, i) => scores.set(p.scores, i * m));
    const prior = Float64Array.from(set.models, (_, k) => columnMean(set, k, "scores"));
    const meanCost = Float64Array.from(set.models, (_, k) => columnMean(set, k, "costs"));
    const unpriced = set.models.filter((_, k) => Number.isNaN(meanCost[k]));
    if (unpriced.length > 0) throw new TriageError(`OutcomePredictor.fit: no cost known for ${unpriced.join(", ")}; give a price list`);
    prior.forEach((v, k) => {
      if (Number.isNaN(v)) prior[k] = 0; // a model with no known outcome is never predicted to succeed
    });
    const index = VectorIndex.build(vectors, vectors[0].length);
    if (estimator.method !== "knn" && !estimator.logistic) throw new TriageError(`OutcomePredictor.fit: method "${estimator.method}" needs logistic params`);
    let head: { model: LogisticModel; scaler: FeatureScaler } | undefined;
    if (estimator.method !== "knn") {
      const scaler = fitScaler(set.prompts.map((p) => surfaceFeatures(p.text)));
      const inputs = vectors.map((v, i) => withSurfaceFeatures(v, set.prompts[i].text, scaler));
      head = {
        model: fitLogistic(
          inputs,
          set.prompts.map((p) => p.scores),
          m,
          estimator.logistic,
        ),
        scaler,
      };
    }
    return new OutcomePredictor({ models: set.models, index, scores, prior, meanCost, estimator, head, byCost: modelsByCost(set), strong: bestModel(set) });
  }

  /** Predicted success per model for one query: its embedding, and its text (the logistic head reads surface features). */
  predict(vector: Float32Array, text: string): Float64Array {
    const { method, knn } = this.estimator;
    const head = this.state.head;
    const logistic = () => predictLogistic(head!.model, withSurfaceFeatures(vector, text, head!.scaler));
    if (method === "logistic") return logistic();
    const p = knnSuccess(this.state.index.search(vector, knn.k), this.state.scores, this.prior, knn);
    if (method === "blend") {
      const q = logistic();
      for (let m = 0; m < p.length; m++) p[m] = (p[m] + q[m]) / 2;
    }
    return p;
  }

  /** Index of the cheapest model whose prediction is within `tolerance` of the best (0 = best predicted). */
  chooseByTolerance(predicted: ArrayLike<number>, tolerance: number): number {
    return chooseWithin(predicted, this.byCost, tolerance);
  }

  /** Index maximising predicted − λ·relative cost (λ = 0: best predicted; large λ: cheapest). */
  chooseByLambda(predicted: ArrayLike<number>, lambda: number): number {
    let best = this.byCost[0];
    let bestValue = -Infinity;
    for (const m of this.byCost) {
      const v = predicted[m] - lambda * this.relativeCost[m];
      if (v > bestValue + 1e-12) {
        best = m;
        bestValue = v;
      }
    }
    return best;
  }

  route(vector: Float32Array, text: string, tolerance: number): OutcomeChoice {
    const p = this.predict(vector, text);
    const predicted = Object.fromEntries(this.models.map((name, k) => [name, p[k]]));
    return { model: this.models[this.chooseByTolerance(p, tolerance)], predicted };
  }
}
