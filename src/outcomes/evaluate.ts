import { TriageError } from "../common/errors.js";
import { cvSummary, type CvTrial } from "./cv.js";
import { DEFAULT_DIAL, dialPoint, settingFor, type Dial } from "./dial.js";
import { fitOutcomeModel } from "./fit.js";
import { bestModel, completeRows, modelsByCost, type OutcomeSet } from "./set.js";
import { always, choiceErrors, oracle, randomMixtures, ruleCurve } from "./baselines.js";
import { anchorsBetween, summarise, costAtQuality, type Anchors, type CurvePoint, type CurveSummary } from "./metrics.js";
import { choose, pointFor, sweepRule, type ChoiceRule } from "./sweep.js";
import { bootstrapSavings, staircase, type SavingUncertainty } from "./bootstrap.js";

export type Embed = (texts: readonly string[]) => Promise<Float32Array[]>;

export interface RoutingEvalOptions {
  /** Score at or above which an answer counts as good (0/1 data: 0.5). */
  threshold?: number;
  seed?: number;
  /** Cross-validation folds on the training split. */
  folds?: number;
  /** Also try a per-model logistic head (and a kNN+logistic blend) in cross-validation (default true). */
  logistic?: boolean;
  /** Fold partitions cross-validated on the training split (fit.ts; default defaultCvRepeats of its size). */
  repeats?: number;
  /** Embedding dimensions the logistic head reads (fit.ts; default DEFAULT_HEAD_DIMENSIONS, 0: all). */
  headDimensions?: number;
  /** The dial setting reported as the router's operating point (default: quality floor 0.95). */
  dial?: Dial;
  /** Bootstrap resamples of the test prompts behind the savings' intervals (default 1,000; 0: none). */
  resamples?: number;
  log?: (message: string) => void;
}

/** The router at one dial setting, as a served router with that setting routes the test split. */
export interface DialReport {
  dial: Dial;
  /** The choice rule and its setting the dial stands for (calibrated on train). */
  rule: ChoiceRule;
  setting: number;
  /** What the setting promised on the training split, out of fold (relative to the strongest model). */
  calibrated: { quality: number; cost: number };
  /** What it did on the test split. */
  quality: number;
  cost: number;
  /** quality / the strongest model's quality, 1 − cost / its cost (test split). */
  relativeQuality: number;
  saving: number | null;
  strongFraction: number;
  /** Prompts sent to each model. */
  calls: Record<string, number>;
}

export interface QualityCost {
  quality: number;
  cost: number;
}

export interface CurveReport extends CurveSummary {
  points: CurvePoint[];
  /** At the cheapest point reaching 95% of the strong model's quality (or the best point when none does). */
  atTarget: { quality: number; cost: number; strongFraction: number; costInflation: number; qualityLoss: number };
}

export interface RoutingReport extends CurveSummary {
  models: string[];
  weak: string;
  strong: string;
  /** How weak/strong were chosen (matters for > 2 models). */
  definitions: string;
  trainPrompts: number;
  testPrompts: number;
  notes: string[];
  anchors: Anchors;
  /** Saving at 95% with bootstrap intervals over the test prompts, and the router against each baseline (absent with 0 resamples). */
  uncertainty?: SavingUncertainty;
  router: CurveReport & {
    method: CvTrial["method"];
    params: Omit<CvTrial, "method" | "aiq" | "aiqStaircase" | "saving95">;
    cvAiq: number;
    /** Fold partitions the choice was scored over (options.repeats). */
    cvRepeats: number;
    cv: { method: string; aiq: number; aiqStaircase: number }[];
    atDial: DialReport;
  };
  baselines: {
    random: CurveReport;
    rules: CurveReport;
    /** RouterBench's "zero router": the single models, and per-request mixtures of them (their hull). */
    zero: CurveReport;
    cheapest: QualityCost;
    strongest: QualityCost;
    oracle: QualityCost;
    /** Each model alone, for many-model data. */
    single: Record<string, QualityCost>;
  };
}

/**
 * `set` with its model columns in `models`' order: train and test files may list the same models in
 * different orders. Different sets of models are an error naming what only one side has.
 */
export function inModelOrder(set: OutcomeSet, models: readonly string[]): OutcomeSet {
  if (set.models.join("\n") === models.join("\n")) return set;
  const onlyTrain = models.filter((m) => !set.models.includes(m));
  const onlyTest = set.models.filter((m) => !models.includes(m));
  if (onlyTrain.length > 0 || onlyTest.length > 0 || set.models.length !== models.length)
    throw new TriageError(
      `train and test list different models: ${[onlyTrain.length ? `only in train: ${onlyTrain.join(", ")}` : "", onlyTest.length ? `only in test: ${onlyTest.join(", ")}` : ""].filter(Boolean).join("; ") || `${models.join(", ")} vs ${set.models.join(", ")}`}`,
    );
  const column = models.map((m) => set.models.indexOf(m));
  const reorder = (values: Float64Array) => Float64Array.from(column, (c) => values[c]);
  return { ...set, models: [...models], prompts: set.prompts.map((p) => ({ ...p, scores: reorder(p.scores), costs: reorder(p.costs) })) };
}

function curveReport(
  set: OutcomeSet,
  points: CurvePoint[],
  choicesAt: ((i: number) => number[]) | null,
  anchors: Anchors,
  oracleChoices: number[],
  threshold: number,
): CurveReport {
  const summary = summarise(points, anchors);
  const target = 0.95 * anchors.strongQuality;
  let idx = -1;
  points.forEach((p, i) => {
    if (p.quality >= target && (idx < 0 || p.cost < points[idx].cost)) idx = i;
  });
  if (idx < 0) idx = points.reduce((b, p, i) => (p.quality > points[b].quality ? i : b), 0);
  const p = points[idx];
  const errors = choicesAt ? choiceErrors(set, choicesAt(idx), oracleChoices, threshold) : { costInflation: NaN, qualityLoss: NaN };
  return { ...summary, points, atTarget: { quality: p.quality, cost: p.cost, strongFraction: p.strongFraction, ...errors } };
}

/** RouterBench's zero router is defined by mixing single models per request: its own curve is its hull. */
function mixingOnly(c: CurveReport): CurveReport {
  const h = c.hull;
  return {
    ...c,
    apgr: h.apgr,
    cpt50: h.cpt50,
    cpt80: h.cpt80,
    saving95: h.saving95,
    saving98: h.saving98,
    saving95Net: h.saving95 === null || c.saving95Net === null || c.saving95 === null ? null : h.saving95 - (c.saving95 - c.saving95Net),
  };
}

/**
 * Trains an OutcomePredictor on `train` (k, smoothing by CV on train only), sweeps its tolerance dial on
 * `test` and scores it and the baselines with RouteLLM's and RouterBench's metrics.
 * Weak = cheapest model on train (mean cost per prompt), strong = best mean score on train.
 */
export async function evaluateRouting(train: OutcomeSet, testAll: OutcomeSet, embed: Embed, options: RoutingEvalOptions = {}): Promise<RoutingReport> {
  const log = options.log ?? (() => {});
  const threshold = options.threshold ?? 0.5;
  const test = completeRows(inModelOrder(testAll, train.models));
  if (test.prompts.length === 0) throw new TriageError("test split has no prompt with every score known");
  const byCost = modelsByCost(train);
  const weak = byCost[0];
  const strong = bestModel(train);
  if (weak === strong) throw new TriageError(`the cheapest model (${train.models[weak]}) is also the best: nothing to route`);

  log(`embedding ${train.prompts.length} train + ${test.prompts.length} test prompts`);
  const trainVectors = await embed(train.prompts.map((p) => p.text));
  const testVectors = await embed(test.prompts.map((p) => p.text));

  log("cross-validating the estimator on the training split");
  const {
    predictor: router,
    cv,
    calibration,
  } = await fitOutcomeModel(train, trainVectors, {
    folds: options.folds,
    seed: options.seed,
    logistic: options.logistic,
    repeats: options.repeats,
    headDimensions: options.headDimensions,
    log,
  });
  const { method, aiq: _aiq, aiqStaircase: cvAiq, saving95: _s, ...params } = cv.best;
  const preds = testVectors.map((v, i) => router.predict(v, test.prompts[i].text));
  const rule = calibration.rule;
  const sweep = sweepRule(test, preds, byCost, router.relativeCost, strong, rule, Infinity); // every setting: the finest staircase

  const weakPoint = always(test, weak, strong);
  const strongPoint = always(test, strong, strong);
  const anchors = anchorsBetween(weakPoint, strongPoint);
  const orc = oracle(test, strong, threshold);
  const rules = ruleCurve(test, weak, strong);
  const qc = (p: CurvePoint): QualityCost => ({ quality: p.quality, cost: p.cost });
  const singlePoints = train.models.map((_, m) => always(test, m, strong));
  const single = Object.fromEntries(train.models.map((name, m) => [name, qc(singlePoints[m])]));
  const singleChoices = train.models.map((_, m) => new Array<number>(test.prompts.length).fill(m));
  const saving = costAtQuality(sweep.points, anchors, 0.95);
  log(`router: cost at 95% of strong quality ${saving === null ? "not reached" : `$${saving.toFixed(4)}`}`);
  const dial = options.dial ?? DEFAULT_DIAL;
  const setting = settingFor(calibration, dial);
  const dialChoices = preds.map((p) => choose(rule, p, byCost, router.relativeCost, setting));
  const dialAt = pointFor(test, dialChoices, strong, setting);
  const promised = dialPoint(calibration, dial);
  const atDial: DialReport = {
    dial,
    rule,
    setting,
    calibrated: { quality: promised.quality, cost: promised.cost },
    quality: dialAt.quality,
    cost: dialAt.cost,
    relativeQuality: strongPoint.quality === 0 ? NaN : dialAt.quality / strongPoint.quality,
    saving: strongPoint.cost === 0 ? null : 1 - dialAt.cost / strongPoint.cost,
    strongFraction: dialAt.strongFraction,
    calls: Object.fromEntries(train.models.map((name, m) => [name, dialChoices.filter((c) => c === m).length])),
  };
  const resamples = options.resamples ?? 1000;
  const uncertainty =
    resamples > 0
      ? bootstrapSavings({
          set: test,
          weak,
          strong,
          router: staircase(sweep.points.length, sweep.choicesAt),
          rules: staircase(rules.points.length, (k) => rules.choices[k]),
          resamples,
          seed: options.seed ?? 1,
        })
      : undefined;
  return {
    ...summarise(sweep.points, anchors),
    models: train.models,
    weak: train.models[weak],
    strong: train.models[strong],
    definitions:
      train.models.length > 2
        ? "weak = cheapest model (mean cost per prompt on train), strong = best-quality model (mean score on train); strong-call % counts calls to that model"
        : "weak = cheaper model, strong = the better one (on train)",
    trainPrompts: train.prompts.length,
    testPrompts: test.prompts.length,
    notes: [...new Set([...train.notes, ...test.notes])], // test.notes also says how many blank-score rows were left out
    anchors,
    ...(uncertainty ? { uncertainty } : {}),
    router: { ...curveReport(test, sweep.points, sweep.choicesAt, anchors, orc.choices, threshold), method, params, cvAiq, cvRepeats: cv.repeats, cv: cvSummary(cv), atDial },
    baselines: {
      random: curveReport(test, randomMixtures(weakPoint, strongPoint), null, anchors, orc.choices, threshold),
      rules: curveReport(test, rules.points, (i) => rules.choices[i], anchors, orc.choices, threshold),
      zero: mixingOnly(curveReport(test, singlePoints, (i) => singleChoices[i], anchors, orc.choices, threshold)),
      cheapest: qc(weakPoint),
      strongest: qc(strongPoint),
      oracle: qc(orc.point),
      single,
    },
  };
}
