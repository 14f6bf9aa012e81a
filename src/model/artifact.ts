/**
 * @module The model artifact (model/), written and read here only: the manifest (artifact.ts), the names of its
 * files (files.ts), writing (write.ts) and loading (load.ts) with checksums, the parts (HNSW index,
 * centroids, softmax head, lexical features) and how their opinions combine, the confidence rule and the
 * fast path's cut, the registry and watching it. train/ fits what is stored here; router/ scores with it.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import { routesConfigSchema } from "../config/schema.js";
import type { Calibration } from "./confidence.js";
import type { Combination } from "./scoring.js";
import type { EncoderRef } from "../encoders/types.js";
import type { TokenizerSpec } from "../encoders/tokenizers/subword.js";
import type { HnswParams } from "./hnsw.js";
import type { HeadParams } from "./head.js";
import type { CentroidParams } from "./centroids.js";
import type { LexicalParams } from "./lexical.js";
import type { ArtifactChecksums } from "./checksums.js";
import { ARTIFACT_FILES } from "./files.js";

export const SCHEMA_VERSION = 1;

export interface PartMetrics {
  accuracy: number;
  macroF1: number;
}

export interface Manifest {
  schemaVersion: number;
  /** Unique per training run: time + data hash. */
  version: string;
  createdAt: string;
  encoder: EncoderRef;
  labels: string[];
  ordered: boolean;
  config: z.infer<typeof routesConfigSchema>;
  params: { hnsw: HnswParams; head: HeadParams; centroids: CentroidParams; lexical: LexicalParams; folds: number };
  combination: Combination;
  calibration: Calibration;
  /** Cross-validated (out-of-fold) metrics on the training data. */
  metrics: { cv: PartMetrics & { parts: Record<"knn" | "centroid" | "head", PartMetrics> } };
  data: { sha256: string; examples: number; perLabel: Record<string, number>; duplicates: number; conflicts: number };
  /** Label index of each centroid in centroids.bin. */
  centroidLabels: number[];
  /** Extra stages trained into the artifact: the static encoder of the fast path. */
  stages?: { static?: StaticStageManifest };
  /** SHA-256 of every file and of the manifest itself (see checksums.ts); absent in artifacts written before they were recorded. */
  checksums?: ArtifactChecksums;
}

/** What the manifest records about the static first stage of the encoder cascade. */
export interface StaticStageManifest {
  dir: string;
  encoder: EncoderRef;
  combination: Combination;
  /** Accept the static stage's decision when its margin is at least this; else embed with the full encoder. */
  threshold: number;
  /** Below this margin the static stage settles the query as low-confidence itself (-1: never; absent in older artifacts). */
  lowThreshold?: number;
  /** Net share of confident decisions lost against the full router (negative: gained). */
  coverageLoss?: number;
  /** False when no cut met the tolerance and this is the most accurate one (absent in older artifacts). */
  withinTolerance?: boolean;
  /** The static stage's own margin threshold for the target accuracy (the top band never reaches below it). */
  ownThreshold?: number;
  /** The cut at other accuracy tolerances (same held-out data): Router's `fastPathTolerance` picks one. */
  curve?: (CascadeCut & { tolerance: number })[];
  /** Queries whose nearest static-space example is less similar than this are novel: the static stage settles them as low-confidence. */
  minSimilarity: number;
  /** On texts the static encoder was not fitted to, out of fold: share it decides, cascade vs full accuracy (the full encoder's decision blended, with `blend`). */
  coverage: number;
  cascadeAccuracy: number;
  fullAccuracy: number;
  staticAccuracy: number;
  centroidLabels: number[];
  distill: DistillReport;
  /** Word-dropout copies the static head also trained on (absent in older artifacts). */
  wordDropout?: WordDropout & { rows: number };
  /**
   * What the cut was calibrated on: "folds", every example scored in cross-validation by an encoder
   * distilled without its fold (below 5,000 examples); "held-out", one held-out slice (absent in older artifacts).
   */
  calibratedOn?: "folds" | "held-out";
  /**
   * The full stage's decisions blend in this stage's scores at `weight`, and are confident from the
   * refitted `threshold` (absent: the full stage alone; older artifacts). Chosen on the calibration examples.
   */
  blend?: { weight: number; threshold: number; accuracy: number; fullAccuracy: number };
}

export interface CascadeCut {
  /** Static margin at or above which the static stage decides confidently. */
  threshold: number;
  /** Static margin below which the static stage settles the query as low-confidence (margins lie in [0, 1]: -1 never, 2 always). */
  lowThreshold: number;
  /** Share decided without the full encoder (accepted + settled low + novel). */
  coverage: number;
  cascadeAccuracy: number;
  /**
   * Net share of confident decisions lost against the full router: settled low-confidence although the
   * full router was confident, minus accepted confidently although it was unsure (negative: a gain).
   */
  coverageLoss: number;
  /**
   * False when no cut loses at most the tolerance (novel queries, always settled by the static stage, can
   * lose more than that alone): the cut is then the most accurate one. Absent in older artifacts.
   */
  withinTolerance?: boolean;
}

/** What distilling the static encoder reported (train/distill.ts). */
export interface DistillReport {
  vocabulary: TokenizerSpec["kind"];
  vocabSize: number;
  /** Distinct token strings embedded with the teacher for the initialisation. */
  tokensEmbedded: number;
  trainTexts: number;
  heldOutTexts: number;
  epochs: number;
  /** Epoch whose parameters were kept (best held-out cosine; 0 = initialisation). */
  bestEpoch: number;
  /** Mean cosine to the teacher on held-out texts, with the quantised encoder (null without a held-out slice). */
  heldOutCosineInit: number | null;
  heldOutCosineFitted: number | null;
  /** Held-out mean cosine after each epoch (full precision). */
  heldOutCosineByEpoch: number[];
  fitSeconds: number;
  /** Dimensions of the static space, and the share of the teacher's variance they keep (1 when unprojected). */
  dimensions: number;
  varianceKept: number;
}

/** Word-dropout augmentation of the static head's training rows (train/augment.ts). */
export interface WordDropout {
  /** Copies of each text (0 turns augmentation off). */
  copies: number;
  /** Chance that each word is left out of a copy. */
  rate: number;
}

const manifestShape = z
  .object({
    schemaVersion: z.number().int(),
    version: z.string(),
    encoder: z.object({ id: z.string(), fingerprint: z.string(), dimensions: z.number().int().positive() }).passthrough(),
    labels: z.array(z.string()).min(2),
    config: routesConfigSchema,
  })
  .passthrough();

export function readManifest(dir: string): Manifest {
  const path = join(dir, ARTIFACT_FILES.manifest);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TriageError(
      code === "ENOENT"
        ? `${dir}: not a triage model (no ${ARTIFACT_FILES.manifest}); train one with \`triage train --data FILE --out ${dir}\``
        : `${path}: ${(err as Error).message}`,
    );
  }
  const parsed = manifestShape.safeParse(raw);
  if (!parsed.success) throw new TriageError(`${path}: ${formatZodError(parsed.error)}`);
  if (parsed.data.schemaVersion > SCHEMA_VERSION)
    throw new TriageError(`${path}: schema version ${parsed.data.schemaVersion} is newer than this triage supports (${SCHEMA_VERSION}); upgrade triage`);
  return raw as Manifest;
}
