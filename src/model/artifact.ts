import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { formatZodError } from "../config/load.js";
import { routesConfigSchema } from "../config/schema.js";
import type { Calibration } from "../train/calibrate.js";
import type { Combination } from "./scoring.js";
import type { EncoderRef } from "../encoders/types.js";
import type { HnswParams } from "./hnsw.js";
import type { HeadParams } from "./head.js";
import type { CentroidParams } from "./centroids.js";
import type { LexicalParams } from "./lexical.js";
import type { StaticStageManifest } from "../train/cascade.js";
import type { ArtifactChecksums } from "./checksums.js";

export const SCHEMA_VERSION = 1;

/** Files inside an artifact directory. */
export const ARTIFACT_FILES = { manifest: "manifest.json", examples: "examples.jsonl" } as const;

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
      code === "ENOENT" ? `${dir}: not a triage model (no ${ARTIFACT_FILES.manifest}); train one with \`triage train --data FILE --out ${dir}\`` : `${path}: ${(err as Error).message}`,
    );
  }
  const parsed = manifestShape.safeParse(raw);
  if (!parsed.success) throw new TriageError(`${path}: ${formatZodError(parsed.error)}`);
  if (parsed.data.schemaVersion > SCHEMA_VERSION)
    throw new TriageError(`${path}: schema version ${parsed.data.schemaVersion} is newer than this triage supports (${SCHEMA_VERSION}); upgrade triage`);
  return raw as Manifest;
}

export function writeFloat32(path: string, data: Float32Array): void {
  writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

export function readFloat32(path: string): Float32Array {
  const buf = readFileSync(path);
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new Float32Array(copy);
}

export function readInt32(path: string): Int32Array {
  const buf = readFileSync(path);
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new Int32Array(copy);
}
