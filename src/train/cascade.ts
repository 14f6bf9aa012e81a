import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { saveStaticEncoder, type StaticEncoder } from "../encoders/static.js";
import { encoderRef, type Encoder, type EncoderRef } from "../encoders/types.js";
import { crossValidate, type CrossValidation } from "./crossval.js";
import { distillStaticEncoder, type DistillReport } from "./distill.js";
import { fitParts, type PartParams } from "./parts.js";
import { saveParts } from "./parts-io.js";
import type { Combination } from "./scoring.js";

/**
 * Accuracy the fast path may give up against the full router, as a share of all queries: the price of
 * deciding most queries without the full encoder (a 1-point budget leaves room for noise).
 */
const DEFAULT_TOLERANCE = 0.008;

/** Share of training texts kept out of the static encoder's fit, to calibrate the cascade on. */
const CALIBRATION_SHARE = 0.2;

/** Sub-directory of an artifact holding the static (fast-path) stage. */
export const STATIC_STAGE_DIR = "static";

/** What the manifest records about the static first stage of the encoder cascade. */
export interface StaticStageManifest {
  dir: string;
  encoder: EncoderRef;
  combination: Combination;
  /** Accept the static stage's decision when its margin is at least this; else embed with the full encoder. */
  threshold: number;
  /** Queries whose nearest static-space example is less similar than this go to the full encoder. */
  minSimilarity: number;
  /** On texts the static encoder was not fitted to, out of fold: share it decides, cascade vs full accuracy. */
  coverage: number;
  cascadeAccuracy: number;
  fullAccuracy: number;
  staticAccuracy: number;
  centroidLabels: number[];
  distill: DistillReport;
}

export interface StaticStageOptions {
  teacher: Encoder;
  texts: readonly string[];
  vectors: readonly Float32Array[];
  targets: readonly number[];
  labels: readonly string[];
  params: PartParams & { folds: number; seed: number; targetAccuracy: number; noveltyRate: number };
  /** Out-of-fold result of the full stage, to calibrate against. */
  full: CrossValidation;
  /** The static stage may lose at most this share of all examples vs the full router (default 0.008). */
  tolerance?: number;
  extraTexts?: readonly string[];
  onProgress?: (message: string) => void;
}

export interface StaticStage {
  encoder: StaticEncoder;
  manifest: Omit<StaticStageManifest, "centroidLabels"> & { centroidLabels: number[] };
  save(artifactDir: string): Promise<void>;
}

/**
 * Trains the cascade's first stage: a distilled static encoder with its own index, centroids and head,
 * and a margin threshold (out-of-fold) above which its decisions are as accurate as the full router's.
 */
export async function trainStaticStage(o: StaticStageOptions): Promise<StaticStage> {
  o.onProgress?.("fast path: distilling the static encoder");
  const { encoder, report, heldOutTexts } = await distillStaticEncoder(o.teacher, o.texts, {
    extraTexts: o.extraTexts,
    seed: o.params.seed,
    heldOutFraction: CALIBRATION_SHARE,
  });
  const vectors = o.texts.map((t) => encoder.embedOne(t));
  o.onProgress?.("fast path: cross-validating the static stage");
  const cv = crossValidate(o.texts, vectors, o.targets, o.labels, o.params);
  // The static stage settles novel queries itself (low-confidence whichever encoder looks), and never
  // calls confident what its own calibration calls low-margin: those go to the full encoder.
  const floor = cv.calibration.minSimilarity ?? -1;
  const own = cv.calibration.threshold;
  const margins = cv.margins.map((m, i) => (cv.nearest[i] < floor ? Infinity : m < own ? -Infinity : m));
  // Calibrate only on texts the static encoder was not fitted to: on the others it is too good to be true.
  const held = new Set(heldOutTexts);
  const idx = o.texts.flatMap((t, i) => (held.has(t) ? [i] : []));
  const cut = calibrateCascade(
    { predicted: Int32Array.from(idx, (i) => cv.predicted[i]), margins: Float64Array.from(idx, (i) => margins[i]) },
    { predicted: Int32Array.from(idx, (i) => o.full.predicted[i]) },
    idx.map((i) => o.targets[i]),
    o.tolerance ?? DEFAULT_TOLERANCE,
  );
  if (!Number.isFinite(cut.threshold)) cut.threshold = 2; // only novel queries stay static
  const parts = fitParts(o.texts, vectors, o.targets, o.labels.length, o.params);
  const manifest = {
    dir: STATIC_STAGE_DIR,
    encoder: encoderRef(encoder),
    combination: cv.combination,
    ...cut,
    minSimilarity: floor,
    staticAccuracy: share(idx, (i) => cv.predicted[i] === o.targets[i]),
    fullAccuracy: share(idx, (i) => o.full.predicted[i] === o.targets[i]),
    centroidLabels: [...parts.centroids.labels],
    distill: report,
  };
  return {
    encoder,
    manifest,
    async save(artifactDir: string) {
      const dir = join(artifactDir, STATIC_STAGE_DIR);
      mkdirSync(dir, { recursive: true });
      await saveParts(dir, parts);
      await saveStaticEncoder(encoder, join(dir, "encoder"));
    },
  };
}

/**
 * The lowest static margin (most coverage) at which the cascade — static decision above it, full
 * decision below — loses at most `tolerance` × n correct answers against the full router alone.
 */
export function calibrateCascade(
  fast: Pick<CrossValidation, "predicted" | "margins">,
  full: Pick<CrossValidation, "predicted">,
  targets: readonly number[],
  tolerance: number,
): { threshold: number; coverage: number; cascadeAccuracy: number } {
  const n = targets.length;
  const order = [...targets.keys()].sort((a, b) => fast.margins[b] - fast.margins[a]);
  const fullCorrect = targets.filter((t, i) => full.predicted[i] === t).length;
  let diff = 0; // static correct - full correct, over the accepted prefix
  let best = { count: 0, diff: 0 };
  for (let k = 0; k < n; k++) {
    const i = order[k];
    diff += (fast.predicted[i] === targets[i] ? 1 : 0) - (full.predicted[i] === targets[i] ? 1 : 0);
    const boundary = k === n - 1 || fast.margins[order[k + 1]] < fast.margins[i];
    // -Infinity marks queries the static stage must hand on: never part of the accepted prefix.
    if (boundary && fast.margins[i] > -Infinity && diff >= -tolerance * n) best = { count: k + 1, diff };
  }
  const threshold = best.count === 0 ? 2 : fast.margins[order[best.count - 1]];
  return { threshold, coverage: best.count / n, cascadeAccuracy: (fullCorrect + best.diff) / n };
}

function share(indices: readonly number[], test: (i: number) => boolean): number {
  return indices.length ? indices.filter(test).length / indices.length : 0;
}
