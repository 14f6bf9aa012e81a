import type { StaticEncoder } from "../encoders/static.js";
import { encoderRef, type Encoder } from "../encoders/types.js";
import { isConfident } from "../model/confidence.js";
import { DEFAULT_WORD_DROPOUT, wordDropout } from "./augment.js";
import { crossValidate, type CrossValidation, type FoldVectors } from "./crossval.js";
import { stratifiedFolds } from "./folds.js";
import { distillStaticEncoder, type DistillBasis } from "./distill.js";
import type { CascadeCut, StaticStageManifest, WordDropout } from "../model/artifact.js";
import { STATIC_STAGE_DIR } from "../model/files.js";
import type { FittedParts, PartParams } from "../model/parts.js";
import { fitBlend } from "./blend.js";
import { fitParts } from "./fit-parts.js";

/**
 * Accuracy the fast path may give up against the full router, as a share of all queries: the price of
 * deciding most queries without the full encoder. Half the 1-point budget: the held-out slice comes from
 * the training distribution, and on CLINC150's harder test split the loss came out ~0.5 points larger.
 */
const DEFAULT_TOLERANCE = 0.005;

/** Net share of the full router's confident decisions the cascade may lose (to the low-confidence policy) to stay off the full encoder. */
const DEFAULT_COVERAGE_TOLERANCE = 0.01;

/** Accuracy tolerances the manifest records cuts for. */
const CURVE_TOLERANCES = [0, 0.002, 0.004, 0.005, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05];

/** From this many held-out texts, one fit without them scores them instead of cross-validation (cascade.ts). */
const SPLIT_FROM = 1000;

/** Share of training texts kept out of the static encoder's fit, to calibrate the cascade on (large sets). */
const CALIBRATION_SHARE = 0.2;

/** Share of the distillation texts that only choose its best epoch, when cross-validation calibrates the cut. */
const EPOCH_CHOICE_SHARE = 0.1;

/**
 * Pair rows of the static encoder below 5,000 examples (encoders/static.ts staticIds). On the shipped
 * tiers (500 examples; the full router 90.0 % out of fold), the static stage out of fold: without them
 * 86.4 % right, deciding 26 % of queries at the default tolerance; with 65,536, 88.4 % and 94 %. (With
 * the head's word-dropout copies also distilled on: 16,384 86.2 %, 32,768 86.8 %, 65,536 87.4 %,
 * 262,144 87.4 %.) Larger sets were measured without them, and keep that.
 */
const SMALL_DATA_BIGRAMS = 65_536;

export interface StaticStageOptions {
  teacher: Encoder;
  texts: readonly string[];
  vectors: readonly Float32Array[];
  targets: readonly number[];
  labels: readonly string[];
  params: PartParams & { folds: number; seed: number; targetAccuracy: number; noveltyRate: number };
  /** Out-of-fold result of the full stage, to calibrate against. */
  full: CrossValidation;
  /** The static stage may lose at most this share of all examples vs the full router (default 0.005). */
  tolerance?: number;
  /** Net share of confident decisions the cascade may lose against the full router (default 0.01). */
  coverageTolerance?: number;
  extraTexts?: readonly string[];
  /** Word-dropout copies of the training texts for the static head (default 4 copies at rate 0.1; copies 0: off). */
  wordDropout?: WordDropout;
  onProgress?: (message: string) => void;
}

export interface StaticStage {
  encoder: StaticEncoder;
  manifest: Omit<StaticStageManifest, "centroidLabels"> & { centroidLabels: number[] };
  /** Its own index, centroids and head, fitted on static vectors (model/write.ts stores them beside the encoder). */
  parts: FittedParts;
}

/**
 * Trains the cascade's first stage: a distilled static encoder with its own index, centroids and head,
 * and a margin threshold (out-of-fold) above which its decisions are as accurate as the full router's.
 */
export async function trainStaticStage(o: StaticStageOptions): Promise<StaticStage> {
  const dropout = o.wordDropout ?? DEFAULT_WORD_DROPOUT;
  const augmented = wordDropout(o.texts, dropout, o.params.seed + 2);
  // Few examples: a held-out slice would be too small to calibrate the cut on (100 of a 500-example set
  // can only show a loss of 0 or 1 %), so cross-validation scores every example, each fold through an
  // encoder distilled without it. Many: one held-out slice is plenty, and one fit scores it.
  const perFold = o.texts.length * CALIBRATION_SHARE < SPLIT_FROM;
  // Few examples also leave the token table little to learn from: pair rows add what it cannot hold.
  const distil = (texts: readonly string[], heldOutFraction: number, basis?: DistillBasis) =>
    distillStaticEncoder(o.teacher, texts, { extraTexts: o.extraTexts, seed: o.params.seed, heldOutFraction, bigramBuckets: perFold ? SMALL_DATA_BIGRAMS : 0, basis });
  o.onProgress?.("fast path: distilling the static encoder");
  const { encoder, report, heldOutTexts, basis } = await distil(o.texts, perFold ? EPOCH_CHOICE_SHARE : CALIBRATION_SHARE);
  const vectors = o.texts.map((t) => encoder.embedOne(t));
  const augmentation = { ...augmented, vectors: augmented.texts.map((t) => encoder.embedOne(t)) };
  const held = new Set(perFold ? o.texts : heldOutTexts);
  const heldCount = o.texts.filter((t) => held.has(t)).length;
  const split = perFold ? stratifiedFolds(o.targets, o.params.folds, o.params.seed) : Int32Array.from(o.texts, (t) => (held.has(t) ? 0 : -1));
  // A fold's encoder shares the final one's teacher vectors and projection (unsupervised: no label leaks).
  const foldVectors: FoldVectors = async (f) => {
    const fold = (
      await distil(
        o.texts.filter((_, i) => split[i] !== f),
        EPOCH_CHOICE_SHARE,
        basis,
      )
    ).encoder;
    return { vectors: o.texts.map((t) => fold.embedOne(t)), augmentation: augmented.texts.map((t) => fold.embedOne(t)) };
  };
  o.onProgress?.(
    `fast path: ${perFold ? "cross-validating the static stage, each fold with its own static encoder" : `fitting the static stage without its ${heldCount} held-out examples, scoring them`} (${o.texts.length} examples + ${augmented.texts.length} word-dropout copies)`,
  );
  // The final fit needs nothing from cross-validation: both run at once, so all their heads share the workers.
  const [cv, parts] = await Promise.all([
    crossValidate(o.texts, perFold ? foldVectors : vectors, o.targets, o.labels, o.params, undefined, perFold ? augmented : augmentation, split),
    fitParts(o.texts, vectors, o.targets, o.labels.length, o.params, {
      texts: augmentation.texts,
      vectors: augmentation.vectors,
      targets: Array.from(augmentation.source, (i) => o.targets[i]),
    }),
  ]);
  // Calibrate only on texts the static encoder was not fitted to: on the others it is too good to be true.
  const floor = cv.calibration.minSimilarity ?? -1;
  const idx = o.texts.flatMap((t, i) => (held.has(t) ? [i] : []));
  // What the full encoder's decision will be: its own scores with this stage's blended in (blend.ts).
  const blend = fitBlend(
    idx.map((i) => o.full.scores[i]),
    idx.map((i) => cv.scores[i]),
    idx.map((i) => o.targets[i]),
    o.full.calibration,
  );
  const calibration = idx.map((i, k) => ({
    // Novel even in static space: the static stage settles it as low-confidence, whichever encoder looks.
    margin: cv.nearest[i] < floor ? Infinity : cv.margins[i],
    staticCorrect: cv.predicted[i] === o.targets[i],
    fullCorrect: blend.predicted[k] === o.targets[i],
    fullConfident: isConfident(blend.calibration, blend.margins[k], o.full.nearest[i]),
  }));
  const coverageTolerance = o.coverageTolerance ?? DEFAULT_COVERAGE_TOLERANCE;
  const cut = calibrateCascade(calibration, cv.calibration.threshold, o.tolerance ?? DEFAULT_TOLERANCE, coverageTolerance);
  // Other operating points, so a deployment can trade accuracy for speed without retraining.
  const curve = CURVE_TOLERANCES.map((tolerance) => ({ tolerance, ...calibrateCascade(calibration, cv.calibration.threshold, tolerance, coverageTolerance) }));
  const manifest = {
    dir: STATIC_STAGE_DIR,
    encoder: encoderRef(encoder),
    combination: cv.combination,
    ...cut,
    ownThreshold: cv.calibration.threshold,
    curve,
    minSimilarity: floor,
    staticAccuracy: share(idx, (i) => cv.predicted[i] === o.targets[i]),
    fullAccuracy: blend.accuracy,
    centroidLabels: [...parts.centroids.labels],
    distill: report,
    wordDropout: { ...dropout, rows: augmented.texts.length },
    calibratedOn: perFold ? ("folds" as const) : ("held-out" as const),
    ...(blend.weight > 0 ? { blend: { weight: blend.weight, threshold: blend.calibration.threshold, accuracy: blend.accuracy, fullAccuracy: blend.fullAccuracy } } : {}),
  };
  return { encoder, manifest, parts };
}

/** One held-out example as the cascade calibration sees it. */
export interface CascadeExample {
  /** The static stage's margin; Infinity when it settles the query as novel (always static). */
  margin: number;
  staticCorrect: boolean;
  fullCorrect: boolean;
  /** The full router alone would have decided it confidently (above its margin, not novel). */
  fullConfident: boolean;
}

/** Candidate low bands tried (quantile steps): keeps the search linear in the held-out size. */
const LOW_BAND_STEPS = 200;

/**
 * Splits the static margin into three bands: confident static decisions at the top (never below the
 * stage's own calibrated `ownThreshold`), low-confidence static decisions at the bottom (queries the
 * full router would mostly also find unsure), and the full encoder in between. Picks the bands that
 * keep the most queries away from the full encoder while the cascade loses at most `tolerance` × n
 * correct answers and, net, `coverageTolerance` × n confident decisions against the full router alone.
 * When no cut loses that little, it takes the most accurate one (most coverage among equals): accepting
 * nothing would then be both slower and no more accurate than some band.
 */
export function calibrateCascade(examples: readonly CascadeExample[], ownThreshold: number, tolerance: number, coverageTolerance = 0): CascadeCut {
  const n = examples.length;
  const gain = (e: CascadeExample) => (e.staticCorrect ? 1 : 0) - (e.fullCorrect ? 1 : 0);
  const fullCorrect = examples.filter((e) => e.fullCorrect).length;
  const novel = examples.filter((e) => e.margin === Infinity);
  const novelGain = novel.reduce((s, e) => s + gain(e), 0);
  const ranked = examples.filter((e) => e.margin !== Infinity).sort((a, b) => b.margin - a.margin);
  const N = ranked.length;
  // top[a] = gain of accepting the first a; bottom[b] / lost[b] = gain and lost confident decisions of settling the last b.
  // gained[a] = confident decisions the top band adds where the full router was unsure.
  const top = new Float64Array(N + 1);
  const gained = new Float64Array(N + 1);
  const bottom = new Float64Array(N + 1);
  const lost = new Float64Array(N + 1);
  for (let a = 1; a <= N; a++) {
    top[a] = top[a - 1] + gain(ranked[a - 1]);
    gained[a] = gained[a - 1] + (ranked[a - 1].fullConfident ? 0 : 1);
  }
  for (let b = 1; b <= N; b++) {
    const e = ranked[N - b];
    bottom[b] = bottom[b - 1] + gain(e);
    lost[b] = lost[b - 1] + (e.fullConfident ? 1 : 0);
  }
  // A cut may only fall between different margins; the top band never reaches below ownThreshold.
  const cutAfter = (k: number) => k === 0 || k === N || ranked[k - 1].margin > ranked[k].margin;
  let maxTop = 0;
  while (maxTop < N && ranked[maxTop].margin >= ownThreshold) maxTop++;
  while (!cutAfter(maxTop)) maxTop--;
  const budget = -tolerance * n - novelGain;
  let best = { a: 0, b: 0, gain: novelGain };
  const step = Math.max(1, Math.floor(N / LOW_BAND_STEPS));
  for (let b = 0; b <= N; b = b === N ? N + 1 : Math.min(N, b + step)) {
    if (!cutAfter(N - b)) continue;
    for (let a = Math.min(maxTop, N - b); a >= 0; a--) {
      if (!cutAfter(a) || top[a] + bottom[b] < budget) continue;
      // A smaller top band only gains fewer confident decisions: if this one loses too many, so would they.
      if (lost[b] - gained[a] <= coverageTolerance * n && a + b > best.a + best.b) best = { a, b, gain: novelGain + top[a] + bottom[b] };
      break;
    }
  }
  const withinTolerance = best.gain >= -tolerance * n - 1e-9;
  if (!withinTolerance) {
    // A top band alone (a low band could only lose answers the full router gets right): the most accurate, then the widest.
    for (let a = 1; a <= maxTop; a++) if (cutAfter(a) && novelGain + top[a] >= best.gain) best = { a, b: 0, gain: novelGain + top[a] };
  }
  return {
    threshold: best.a === 0 ? 2 : ranked[best.a - 1].margin,
    lowThreshold: best.b === 0 ? -1 : (ranked[N - best.b - 1]?.margin ?? 2),
    coverage: (best.a + best.b + novel.length) / n,
    cascadeAccuracy: (fullCorrect + best.gain) / n,
    coverageLoss: (lost[best.b] - gained[best.a]) / n,
    withinTolerance,
  };
}

function share(indices: readonly number[], test: (i: number) => boolean): number {
  return indices.length ? indices.filter(test).length / indices.length : 0;
}
