/**
 * @module The outcome model artifact: a directory written atomically (common/atomic.ts) whose manifest
 * records the models, their costs, the estimator, its cross-validated dial calibration and the SHA-256
 * of every file (model/checksums.ts), verified before anything is used.
 *
 * Files: `manifest.json`; `index.hnsw` (the training prompts' embeddings); `scores.bin` (float64, prompt ×
 * model, NaN = unknown); `head.bin` (float32 logistic weights, model × inputs) when the estimator has a
 * logistic head; `projection.bin` (float32: the embedding mean, then one principal direction per row)
 * when that head reads a projection of the embedding. Models written before projections have none, and
 * their head reads the whole embedding. The manifest is a tier manifest's shape where they overlap
 * (`labels`, `ordered`, `config.labels` with each model as a route), so registries, `info` and the server
 * read it as they read tiers.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { LEFTOVER_NAME, writeDirAtomic, type DirOwner } from "../common/atomic.js";
import { withoutUndefined } from "../common/defined.js";
import { TriageError } from "../common/errors.js";
import { sha256 } from "../common/hash.js";
import { formatZodError } from "../config/load.js";
import type { RoutesConfig } from "../config/schema.js";
import type { EncoderRef } from "../encoders/types.js";
import { SCHEMA_VERSION } from "../model/artifact.js";
import { checksumFiles, sealManifest, verifyChecksums, type ArtifactChecksums } from "../model/checksums.js";
import { ARTIFACT_FILES, artifactOwner } from "../model/files.js";
import { DEFAULT_HNSW, VectorIndex, type HnswParams } from "../model/hnsw.js";
import { resolveModelDir } from "../model/registry.js";
import { assertFinite, readFloat32, writeFloat32 } from "../model/parts-io.js";
import type { DialCalibration, Dial } from "./dial.js";
import { surfaceFeatures, type FeatureScaler, type FeatureSet } from "./features.js";
import type { Projection } from "../model/projection.js";
import { cvSummary } from "./cv.js";
import type { FitOptions, FittedOutcomeModel } from "./fit.js";
import type { ModelPrices } from "./prices.js";
import { OutcomePredictor, partWeights, type EstimatorSpec, type FittedHead } from "./router.js";
import type { OutcomeSet } from "./set.js";

export const OUTCOME_KIND = "outcomes";
export const OUTCOME_FILES = {
  manifest: ARTIFACT_FILES.manifest,
  index: "index.hnsw",
  scores: "scores.bin",
  head: "head.bin",
  projection: "projection.bin",
} as const;

/** What the artifact records about the outcome model itself (per-model arrays in `models` order). */
export interface OutcomeBlock {
  /** Model names in the training data's column order. */
  models: string[];
  /** Model indices, cheapest first (mean cost per prompt on the training data). */
  byCost: number[];
  /** Index of the strongest model (best mean score on the training data): what the dial is relative to. */
  strong: number;
  /** Mean score per model on the training data. */
  prior: number[];
  /** Mean cost per prompt per model on the training data (USD). */
  meanCost: number[];
  /** Where the costs came from: the data, or a price list (kept here so a decision can price its own prompt). */
  costSource: "data" | "prices";
  prices?: ModelPrices;
  estimator: EstimatorSpec;
  hnsw: HnswParams;
  /** The embedding head's bias per model, its input width and its surface features' standardisation (weights in head.bin). */
  head?: { bias: number[]; dimensions: number; scaler: FeatureScaler; features: FeatureSet };
  /** The principal directions the embedding head reads (values in projection.bin); absent: the whole embedding. */
  projection?: { inputDims: number; outputDims: number; varianceKept: number };
  /** The surface-only head, whole (a few numbers per model). */
  surfaceHead?: { weights: number[]; bias: number[]; dimensions: number; scaler: FeatureScaler; features: FeatureSet };
  dial: { default: Dial; calibration: DialCalibration };
  /** The chosen estimator's out-of-fold AIQ (hull) and staircase AIQ (what it was chosen by), and the best of each kind. */
  cv: {
    folds: number;
    seed: number;
    /** Fold partitions the choice was scored over (absent in models written before there were several). */
    repeats?: number;
    /** What training was told to use instead of the defaults (flags); `retrain` asks the same. Absent: defaults. */
    asked?: EstimatorAsked;
    aiq: number;
    aiqStaircase: number;
    trials: { method: string; aiq: number; aiqStaircase: number }[];
  };
  /** Few-shot prompts were cut to their last question in training; queries are cut the same way. */
  lastQuestionOnly: boolean;
}

export interface OutcomeManifest {
  schemaVersion: number;
  kind: typeof OUTCOME_KIND;
  version: string;
  createdAt: string;
  encoder: EncoderRef;
  /** The models, cheapest first. */
  labels: string[];
  ordered: true;
  /** Each model as a route: `model` is the name sent upstream, `price` when a price list gave one. */
  config: RoutesConfig;
  outcomes: OutcomeBlock;
  data: { sha256: string; prompts: number };
  checksums?: ArtifactChecksums;
}

/** True when `dir` (an artifact, or a registry's current version) holds an outcome model. */
export function isOutcomeArtifact(dir: string): boolean {
  try {
    const raw = JSON.parse(readFileSync(join(resolveModelDir(dir), OUTCOME_FILES.manifest), "utf8")) as { kind?: unknown };
    return raw?.kind === OUTCOME_KIND;
  } catch {
    return false;
  }
}

const finite = z.number().refine(Number.isFinite, "must be a finite number");
const headShape = z.object({
  bias: z.array(finite),
  dimensions: z.number().int().positive(),
  scaler: z.object({ mean: z.array(finite), std: z.array(finite) }),
  features: z.enum(["basic", "extended"]),
});
const manifestShape = z
  .object({
    schemaVersion: z.number().int(),
    kind: z.literal(OUTCOME_KIND),
    version: z.string(),
    encoder: z.object({ id: z.string(), fingerprint: z.string(), dimensions: z.number().int().positive() }).passthrough(),
    labels: z.array(z.string()).min(2),
    data: z.object({ prompts: z.number().int().positive() }).passthrough(),
    outcomes: z
      .object({
        models: z.array(z.string().min(1)).min(2),
        byCost: z.array(z.number().int().nonnegative()),
        strong: z.number().int().nonnegative(),
        prior: z.array(finite),
        meanCost: z.array(finite),
        estimator: z.object({ method: z.enum(["knn", "logistic", "surface", "blend"]) }).passthrough(),
        hnsw: z.object({ M: z.number().int().positive(), efConstruction: z.number().int().positive(), efSearch: z.number().int().positive() }),
        head: headShape.optional(),
        projection: z
          .object({ inputDims: z.number().int().positive(), outputDims: z.number().int().positive(), varianceKept: finite })
          .refine((p) => p.outputDims <= p.inputDims, "outputDims must not exceed inputDims")
          .optional(),
        surfaceHead: headShape.extend({ weights: z.array(finite) }).optional(),
        dial: z
          .object({
            calibration: z
              .object({ rule: z.enum(["tolerance", "lambda"]), points: z.array(z.object({ setting: finite, quality: z.number(), cost: z.number() })).min(1) })
              .passthrough(),
          })
          .passthrough(),
      })
      .passthrough(),
  })
  .passthrough();

export function readOutcomeManifest(dir: string): OutcomeManifest {
  const path = join(dir, OUTCOME_FILES.manifest);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new TriageError(`${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "missing; not a triage model" : (err as Error).message}`);
  }
  const parsed = manifestShape.safeParse(raw);
  if (!parsed.success) throw new TriageError(`${path}: not an outcome model manifest: ${formatZodError(parsed.error)}`);
  if (parsed.data.schemaVersion > SCHEMA_VERSION)
    throw new TriageError(`${path}: schema version ${parsed.data.schemaVersion} is newer than this triage supports (${SCHEMA_VERSION}); upgrade triage`);
  const m = raw as OutcomeManifest;
  const o = m.outcomes;
  const n = o.models.length;
  const sameLength = (field: string, v: readonly unknown[]) => {
    if (v.length !== n) throw new TriageError(`${path}: outcomes.${field} lists ${v.length} values for ${n} models`);
  };
  sameLength("prior", o.prior);
  sameLength("meanCost", o.meanCost);
  sameLength("byCost", o.byCost);
  if ([...o.byCost].sort((a, b) => a - b).some((v, i) => v !== i)) throw new TriageError(`${path}: outcomes.byCost is not an ordering of the ${n} models`);
  if (o.strong >= n) throw new TriageError(`${path}: outcomes.strong (${o.strong}) names no model`);
  for (const [field, h] of [
    ["head", o.head],
    ["surfaceHead", o.surfaceHead],
  ] as const)
    if (h && h.bias.length !== n) throw new TriageError(`${path}: outcomes.${field}.bias lists ${h.bias.length} values for ${n} models`);
  const w = partWeights(o.estimator);
  if ((w.logistic > 0 && !o.head) || (w.surface > 0 && !o.surfaceHead))
    throw new TriageError(`${path}: outcomes.estimator "${o.estimator.method}" needs ${w.logistic > 0 && !o.head ? "outcomes.head" : "outcomes.surfaceHead"}`);
  if (o.projection && !o.head) throw new TriageError(`${path}: outcomes.projection is set but there is no outcomes.head to read it`);
  if (o.projection && o.projection.inputDims !== m.encoder.dimensions)
    throw new TriageError(`${path}: outcomes.projection reads ${o.projection.inputDims} dimensions, the encoder gives ${m.encoder.dimensions}`);
  if (o.head) {
    const inputs = (o.projection?.outputDims ?? m.encoder.dimensions) + surfaceFeatures("", o.head.features).length;
    if (o.head.dimensions !== inputs)
      throw new TriageError(
        `${path}: outcomes.head.dimensions is ${o.head.dimensions}, expected ${inputs} (the ${o.projection ? "projected " : ""}embedding and the ${o.head.features} features)`,
      );
  }
  if (o.surfaceHead && o.surfaceHead.weights.length !== n * o.surfaceHead.dimensions)
    throw new TriageError(`${path}: outcomes.surfaceHead.weights holds ${o.surfaceHead.weights.length} values, expected ${n} models × ${o.surfaceHead.dimensions}`);
  return m;
}

/** Files the loader reads: each must carry a checksum. */
function requiredFiles(m: OutcomeManifest): string[] {
  return [OUTCOME_FILES.index, OUTCOME_FILES.scores, ...(m.outcomes.head ? [OUTCOME_FILES.head] : []), ...(m.outcomes.projection ? [OUTCOME_FILES.projection] : [])];
}

export interface LoadedOutcomeModel {
  /** What was asked for (an artifact or a registry; re-resolved on reload). */
  dir: string;
  artifactDir: string;
  manifest: OutcomeManifest;
  predictor: OutcomePredictor;
  verified: boolean;
}

/** Reads and verifies an outcome artifact (or a registry's current one); any damage is a TriageError naming the file. */
export async function loadOutcomeModel(requested: string, options: { onWarning?: (message: string) => void } = {}): Promise<LoadedOutcomeModel> {
  const dir = resolveModelDir(requested);
  const manifest = readOutcomeManifest(dir);
  const verified = await verifyChecksums(dir, manifest, requiredFiles(manifest));
  if (!verified)
    (options.onWarning ?? ((m: string) => process.emitWarning(m, "TriageModel")))(
      `${dir}: unverified model: its manifest has no checksums, so corruption cannot be detected; retrain it`,
    );
  const o = manifest.outcomes;
  const m = o.models.length;
  const rows = manifest.data.prompts;
  const scoresPath = join(dir, OUTCOME_FILES.scores);
  const scores = readFloat64(scoresPath);
  if (scores.length !== rows * m) throw new TriageError(`${scoresPath}: holds ${scores.length} scores, the manifest says ${rows} prompts × ${m} models`);
  for (let i = 0; i < scores.length; i++)
    if (!Number.isNaN(scores[i]) && !Number.isFinite(scores[i])) throw new TriageError(`${scoresPath}: score ${i} is infinite; the artifact is corrupt, retrain it`);
  let head: FittedHead | undefined;
  if (o.head) {
    const headPath = join(dir, OUTCOME_FILES.head);
    const weights = readFloat32(headPath);
    if (weights.length !== m * o.head.dimensions) throw new TriageError(`${headPath}: size does not match the manifest (${m} models × ${o.head.dimensions} inputs)`);
    assertFinite(headPath, weights);
    head = { model: { weights, bias: Float64Array.from(o.head.bias), dimensions: o.head.dimensions }, scaler: o.head.scaler, features: o.head.features };
  }
  const projection = o.projection && readProjection(join(dir, OUTCOME_FILES.projection), o.projection);
  const sh = o.surfaceHead;
  const surfaceHead: FittedHead | undefined = sh && {
    model: { weights: Float32Array.from(sh.weights), bias: Float64Array.from(sh.bias), dimensions: sh.dimensions },
    scaler: sh.scaler,
    features: sh.features,
  };
  let index: VectorIndex;
  try {
    index = await VectorIndex.load(join(dir, OUTCOME_FILES.index), manifest.encoder.dimensions, o.hnsw);
  } catch (err) {
    throw new TriageError(`${join(dir, OUTCOME_FILES.index)}: cannot read the index (${(err as Error).message})`);
  }
  if (index.size !== rows) throw new TriageError(`${join(dir, OUTCOME_FILES.index)}: holds ${index.size} prompts, the manifest says ${rows}`);
  const predictor = OutcomePredictor.restore({
    models: o.models,
    index,
    scores,
    prior: Float64Array.from(o.prior),
    meanCost: Float64Array.from(o.meanCost),
    estimator: o.estimator,
    head,
    ...(projection ? { projection } : {}),
    surfaceHead,
    byCost: o.byCost,
    strong: o.strong,
  });
  return { dir: requested, artifactDir: dir, manifest, predictor, verified };
}

/** Cross-validation settings given explicitly (`--folds`, `--cv-repeats`, `--head-dims`); the rest took the defaults. */
export type EstimatorAsked = Pick<FitOptions, "folds" | "repeats" | "headDimensions">;

export interface WriteOutcomeOptions {
  out: string;
  set: OutcomeSet;
  fitted: FittedOutcomeModel;
  /** What training was told to use instead of the defaults, recorded for retrain. */
  asked?: EstimatorAsked;
  encoder: EncoderRef;
  seed: number;
  defaultDial: Dial;
  prices?: ModelPrices;
  lastQuestionOnly: boolean;
}

/** The manifest of a fitted model (before its checksums are added). */
export function outcomeManifest(o: Omit<WriteOutcomeOptions, "out">): OutcomeManifest {
  const { set, fitted } = o;
  const p = fitted.predictor;
  const s = p.state;
  const priceOf = (name: string) => o.prices?.models.find((m) => m.name === name);
  const labels = p.byCost.map((m) => set.models[m]);
  const dataSha = sha256(set.prompts.map((q) => `${q.id}\t${q.text}\t${[...q.scores].join(",")}\t${[...q.costs].join(",")}`).join("\n"));
  const createdAt = new Date();
  const best = fitted.cv.best;
  const asked = withoutUndefined(o.asked ?? {});
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: OUTCOME_KIND,
    version: `${createdAt.toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${dataSha.slice(0, 8)}`,
    createdAt: createdAt.toISOString(),
    encoder: o.encoder,
    labels,
    ordered: true,
    config: {
      ordered: true,
      labels: labels.map((name) => {
        const price = priceOf(name);
        return { name, model: name, ...(price ? { price: { input: price.input, output: price.output } } : {}) };
      }),
      rules: [],
      policy: { lowConfidence: "escalate", targetAccuracy: 0.95, noveltyRate: 0.05 },
    },
    outcomes: {
      models: set.models,
      byCost: p.byCost,
      strong: p.strong,
      prior: [...s.prior],
      meanCost: [...s.meanCost],
      costSource: set.costSource === "prices" ? "prices" : "data",
      ...(o.prices ? { prices: o.prices } : {}),
      estimator: s.estimator,
      hnsw: s.index.params ?? DEFAULT_HNSW,
      ...(s.head ? { head: { bias: [...s.head.model.bias], dimensions: s.head.model.dimensions, scaler: s.head.scaler, features: s.head.features } } : {}),
      ...(s.projection ? { projection: { inputDims: s.projection.inputDims, outputDims: s.projection.outputDims, varianceKept: s.projection.varianceKept } } : {}),
      ...(s.surfaceHead
        ? {
            surfaceHead: {
              weights: [...s.surfaceHead.model.weights],
              bias: [...s.surfaceHead.model.bias],
              dimensions: s.surfaceHead.model.dimensions,
              scaler: s.surfaceHead.scaler,
              features: s.surfaceHead.features,
            },
          }
        : {}),
      dial: { default: o.defaultDial, calibration: fitted.calibration },
      cv: {
        folds: fitted.cv.folds,
        seed: o.seed,
        repeats: fitted.cv.repeats,
        ...(Object.keys(asked).length > 0 ? { asked } : {}),
        aiq: best.aiq,
        aiqStaircase: best.aiqStaircase,
        trials: cvSummary(fitted.cv),
      },
      lastQuestionOnly: o.lastQuestionOnly,
    },
    data: { sha256: dataSha, prompts: set.prompts.length },
  };
}

/** Writes the artifact atomically: built aside, checksummed, then renamed into place. Returns the sealed manifest. */
export async function writeOutcomeArtifact(options: WriteOutcomeOptions): Promise<OutcomeManifest> {
  const unsealed = outcomeManifest(options);
  const s = options.fitted.predictor.state;
  let manifest = unsealed;
  await writeDirAtomic(options.out, outcomeArtifactOwner, async (dir) => {
    await s.index.save(join(dir, OUTCOME_FILES.index));
    writeFileSync(join(dir, OUTCOME_FILES.scores), Buffer.from(s.scores.buffer, s.scores.byteOffset, s.scores.byteLength));
    if (s.head) writeFloat32(join(dir, OUTCOME_FILES.head), s.head.model.weights);
    if (s.projection) writeFloat32(join(dir, OUTCOME_FILES.projection), projectionValues(s.projection));
    manifest = sealManifest(unsealed, await checksumFiles(dir));
    writeFileSync(join(dir, OUTCOME_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");
  });
  return manifest;
}

/** projection.bin's values: the mean, then the principal directions (one row each). */
function projectionValues(p: Projection): Float32Array {
  const out = new Float32Array(p.inputDims * (p.outputDims + 1));
  out.set(p.mean);
  out.set(p.components, p.inputDims);
  return out;
}

function readProjection(path: string, shape: NonNullable<OutcomeBlock["projection"]>): Projection {
  const values = readFloat32(path);
  const { inputDims, outputDims } = shape;
  if (values.length !== inputDims * (outputDims + 1))
    throw new TriageError(`${path}: size does not match the manifest (a mean and ${outputDims} directions of ${inputDims} dimensions)`);
  assertFinite(path, values);
  return { ...shape, mean: values.slice(0, inputDims), components: values.slice(inputDims) };
}

function readFloat64(path: string): Float64Array {
  const buf = readFileSync(path);
  if (buf.byteLength % 8 !== 0) throw new TriageError(`${path}: size is not a whole number of float64 values; the artifact is corrupt, retrain it`);
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new Float64Array(copy);
}

/**
 * What `train --outcomes --out DIR` may replace: an empty folder, a tier model (artifactOwner), or an
 * outcome model holding nothing but the files written here (and leftovers of killed writes).
 */
export const outcomeArtifactOwner: DirOwner = {
  what: "a triage model",
  refuse(dir) {
    if (artifactOwner.refuse(dir) === undefined) return undefined;
    if (existsSync(join(dir, "current")) || existsSync(join(dir, "versions"))) return "it is a model registry; add a version with --registry instead";
    let kind: unknown;
    try {
      kind = (JSON.parse(readFileSync(join(dir, OUTCOME_FILES.manifest), "utf8")) as { kind?: unknown }).kind;
    } catch {
      return `no readable ${OUTCOME_FILES.manifest}`;
    }
    if (kind !== OUTCOME_KIND) return `its ${OUTCOME_FILES.manifest} is not a triage manifest`;
    const known = new Set<string>(Object.values(OUTCOME_FILES));
    for (const name of readdirSync(dir)) {
      if (LEFTOVER_NAME.test(name)) continue;
      if (!known.has(name) || !lstatSync(join(dir, name)).isFile()) return `it also holds ${name}, which triage did not write`;
    }
    return undefined;
  },
};
