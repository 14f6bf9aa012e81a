/**
 * @module Routing from per-model outcomes (outcomes/): loaders for RouterBench/RouteLLM/long data, targets and
 * prices, the kNN and logistic success estimators, the outcome router with its one quality/cost dial, and
 * the metrics, sweeps, baselines and reports of `triage eval-routing`.
 */

import { TriageError } from "../common/errors.js";
import { VectorIndex } from "../model/hnsw.js";
import { bestModel, columnMean, modelsByCost, type OutcomeSet } from "./set.js";
import { chooseByLambda, chooseWithin } from "./sweep.js";
import { knnSuccess, type KnnParams } from "./knn.js";
import { fitScaler, scaledFeatures, surfaceFeatures, withSurfaceFeatures, type FeatureScaler, type FeatureSet } from "./features.js";
import { fitLogistic, predictLogistic, type LogisticModel, type LogisticParams } from "./logistic.js";
import { project, type Projection } from "../model/projection.js";

/** A logistic head's training settings and the surface features it reads (default "basic"). */
export type HeadSpec = LogisticParams & { features?: FeatureSet };

/**
 * Which success estimate the router uses: kNN over similar past prompts, a logistic head on the embedding
 * plus surface features ("logistic"), a logistic head on the surface features alone ("surface"), or a
 * weighted average of them ("blend"). Cross-validation chooses.
 */
export interface EstimatorSpec {
  method: "knn" | "logistic" | "surface" | "blend";
  knn: KnnParams;
  logistic?: HeadSpec;
  surface?: HeadSpec;
  /** Blend weights (normalised when used); default: all weight on `method`'s part, a blend of kNN and logistic halves. */
  weights?: { knn: number; logistic: number; surface: number };
}

export const DEFAULT_KNN: KnnParams = { k: 20, smoothing: 2, sharpness: 5 };

/** The weight each part of an estimator gets (summing to 1). */
export function partWeights(spec: EstimatorSpec): { knn: number; logistic: number; surface: number } {
  const w =
    spec.weights ??
    (spec.method === "blend"
      ? { knn: 0.5, logistic: spec.logistic ? 0.5 : 0, surface: spec.logistic ? 0 : 0.5 }
      : { knn: spec.method === "knn" ? 1 : 0, logistic: spec.method === "logistic" ? 1 : 0, surface: spec.method === "surface" ? 1 : 0 });
  const total = w.knn + w.logistic + w.surface;
  if (!(total > 0)) throw new TriageError(`estimator "${spec.method}": blend weights must not all be 0`);
  return { knn: w.knn / total, logistic: w.logistic / total, surface: w.surface / total };
}

/** A routing choice with what led to it. */
export interface OutcomeChoice {
  model: string;
  /** Predicted success per model (model order of the training data). */
  predicted: Record<string, number>;
}

/** A fitted logistic head and the standardisation of the surface features it reads. */
export interface FittedHead {
  model: LogisticModel;
  scaler: FeatureScaler;
  features: FeatureSet;
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
  /** The head on the embedding (projected, when `projection` is set) plus surface features. */
  head?: FittedHead;
  /** What the embedding head reads of the embedding: its top principal directions (absent: all of it). */
  projection?: Projection;
  /** The head on the surface features alone. */
  surfaceHead?: FittedHead;
  /** Model indices from cheapest to dearest (mean training cost per prompt). */
  byCost: number[];
  /** Best mean score on the training data: the "strong" model. */
  strong: number;
}

/** What the embedding head reads of an embedding: its projection, or all of it. */
export function headInput(vector: Float32Array, projection: Projection | undefined): Float32Array {
  return projection ? project(projection, vector) : vector;
}

/** Fits a head on `inputs` (one per prompt of `set`). */
function fitHead(set: OutcomeSet, spec: HeadSpec, inputs: (scaler: FeatureScaler, features: FeatureSet) => Float32Array[]): FittedHead {
  const features = spec.features ?? "basic";
  const scaler = fitScaler(set.prompts.map((p) => surfaceFeatures(p.text, features)));
  return {
    model: fitLogistic(
      inputs(scaler, features),
      set.prompts.map((p) => p.scores),
      set.models.length,
      spec,
    ),
    scaler,
    features,
  };
}

/**
 * Predicts per-model success for a query from per-model outcomes of similar past prompts (kNN-weighted
 * success rate per model, logistic heads, or a blend), then picks a model by a choice rule (sweep.ts):
 * the cheapest within a tolerance of the best prediction, or the best predicted − λ·relative cost.
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
  private readonly weights: { knn: number; logistic: number; surface: number };

  private constructor(readonly state: EstimatorState) {
    this.models = state.models;
    this.byCost = state.byCost;
    this.strong = state.strong;
    this.prior = state.prior;
    this.estimator = state.estimator;
    this.weights = partWeights(state.estimator);
    const dearest = Math.max(...state.meanCost);
    this.relativeCost = state.meanCost.map((c) => (dearest > 0 ? c / dearest : 0));
    if (this.weights.logistic > 0 && !state.head) throw new TriageError(`estimator "${state.estimator.method}" needs its logistic head`);
    if (this.weights.surface > 0 && !state.surfaceHead) throw new TriageError(`estimator "${state.estimator.method}" needs its surface head`);
  }

  /** An estimator read back from an artifact (see artifact.ts). */
  static restore(state: EstimatorState): OutcomePredictor {
    return new OutcomePredictor(state);
  }

  /**
   * `vectors[i]` is the unit embedding of `set.prompts[i].text`. Costs must be known (data or price list).
   * With a `projection`, the embedding head reads the projected embedding (fit.ts).
   */
  static fit(set: OutcomeSet, vectors: readonly Float32Array[], estimator: EstimatorSpec = { method: "knn", knn: DEFAULT_KNN }, projection?: Projection): OutcomePredictor {
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
    const w = partWeights(estimator);
    if (w.logistic > 0 && !estimator.logistic) throw new TriageError(`OutcomePredictor.fit: method "${estimator.method}" needs logistic params`);
    if (w.surface > 0 && !estimator.surface) throw new TriageError(`OutcomePredictor.fit: method "${estimator.method}" needs surface params`);
    const head =
      w.logistic > 0
        ? fitHead(set, estimator.logistic!, (scaler, features) => vectors.map((v, i) => withSurfaceFeatures(headInput(v, projection), set.prompts[i].text, scaler, features)))
        : undefined;
    const surfaceHead = w.surface > 0 ? fitHead(set, estimator.surface!, (scaler, features) => set.prompts.map((p) => scaledFeatures(p.text, scaler, features))) : undefined;
    return new OutcomePredictor({
      models: set.models,
      index,
      scores,
      prior,
      meanCost,
      estimator,
      head,
      ...(head && projection ? { projection } : {}),
      surfaceHead,
      byCost: modelsByCost(set),
      strong: bestModel(set),
    });
  }

  /** Predicted success per model for one query: its embedding, and its text (the heads read surface features). */
  predict(vector: Float32Array, text: string): Float64Array {
    const { knn } = this.estimator;
    const { head, surfaceHead } = this.state;
    const w = this.weights;
    const out = new Float64Array(this.models.length);
    const add = (p: Float64Array, weight: number) => {
      for (let m = 0; m < out.length; m++) out[m] += weight * p[m];
    };
    if (w.knn > 0) add(knnSuccess(this.state.index.search(vector, knn.k), this.state.scores, this.prior, knn), w.knn);
    if (w.logistic > 0) add(predictLogistic(head!.model, withSurfaceFeatures(headInput(vector, this.state.projection), text, head!.scaler, head!.features)), w.logistic);
    if (w.surface > 0) add(predictLogistic(surfaceHead!.model, scaledFeatures(text, surfaceHead!.scaler, surfaceHead!.features)), w.surface);
    return out;
  }

  /** Index of the cheapest model whose prediction is within `tolerance` of the best (0 = best predicted). */
  chooseByTolerance(predicted: ArrayLike<number>, tolerance: number): number {
    return chooseWithin(predicted, this.byCost, tolerance);
  }

  /** Index maximising predicted − λ·relative cost (λ = 0: best predicted; large λ: cheapest). */
  chooseByLambda(predicted: ArrayLike<number>, lambda: number): number {
    return chooseByLambda(predicted, this.byCost, this.relativeCost, lambda);
  }

  route(vector: Float32Array, text: string, tolerance: number): OutcomeChoice {
    const p = this.predict(vector, text);
    const predicted = Object.fromEntries(this.models.map((name, k) => [name, p[k]]));
    return { model: this.models[this.chooseByTolerance(p, tolerance)], predicted };
  }
}
