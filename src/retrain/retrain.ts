import { join } from "node:path";
import { sha256 } from "../common/hash.js";
import { resolveRoutesConfig } from "../config/load.js";
import type { RoutesConfig } from "../config/schema.js";
import { CachedEncoder } from "../encoders/cache.js";
import { DEFAULT_CACHE_PATH, encoderForArtifact, resolveEncoder } from "../encoders/resolve.js";
import type { Encoder, EncoderRef } from "../encoders/types.js";
import { evaluate, type EvalReport } from "../eval/evaluate.js";
import { Router } from "../router/router.js";
import type { LoggedDecision } from "../store/types.js";
import { openDecisionLog } from "../store/open.js";
import { loadExamples, type Example } from "../train/data.js";
import { readManifest, type Manifest } from "../model/artifact.js";
import { train, type TrainOptions } from "../train/train.js";
import { buildTrainingSet, type Provenance, type TrainingSet, type TrainingSetOptions } from "./dataset.js";
import { openRegistry, type Adoption } from "../model/adopt.js";
import { acquireLock } from "./lock.js";
import { DEFAULT_KEEP_VERSIONS } from "../model/registry.js";

export type RetrainMetric = "accuracy" | "macroF1";

export interface RetrainOptions {
  /**
   * Registry directory (models/<name>); with no current version yet, the candidate is promoted unconditionally.
   * A plain artifact there (`triage train --out`) is adopted as the registry's first version.
   */
  registry: string;
  /** The curated labelled examples (JSONL/CSV path or in memory). */
  baseData: string | readonly Example[];
  /** Decision log (SQLite) to learn from. */
  logDb: string;
  /** Fixed evaluation set; the newest human labels from the log are added to it (and kept out of training). */
  evalData?: string | readonly Example[];
  heldOut?: TrainingSetOptions["heldOut"];
  /** Compared on the held-out data; default "accuracy" (top-1, in-scope). */
  metric?: RetrainMetric;
  /** Promote when candidate - current >= minDelta (default 0: not worse). Negative tolerates a small drop. */
  minDelta?: number;
  /**
   * Held-out examples a comparison needs (default 50): with fewer, one example moves accuracy by whole
   * points, so nothing is trained or promoted and the report says so.
   */
  minHeldOut?: number;
  /**
   * When the held-out data has out-of-scope queries (labels the models do not know), keep the current
   * version if the candidate flags a smaller share of them as low-confidence by more than this (default 0.02).
   */
  maxOutOfScopeDrop?: number;
  includeHighConfidence?: TrainingSetOptions["includeHighConfidence"];
  fallbackAgreements?: boolean;
  /** Only log rows at or after this time (ms since epoch). */
  since?: number;
  /** Routes config; default: the current model's. Required for a registry without a current version unless labels come from the data. */
  config?: string | RoutesConfig;
  /** Encoder; default: the current model's (through the embedding cache, so only new text is embedded). */
  encoder?: Encoder;
  encoderRef?: EncoderRef;
  /** For a registry without a current version and no `encoder`: auto | use | onnx | onnx:DIR. */
  encoderSpec?: string;
  /** Versions kept on disk after a promotion (default 5; current and previous always kept). */
  keepVersions?: number;
  /** The name a newly trained candidate gets (default: the registry's next); a shared registry reserves it. */
  candidateVersion?: string;
  folds?: number;
  seed?: number;
  targetAccuracy?: number;
  /** The candidate's fast path (see TrainOptions.fastPath); default: train's own default. */
  fastPath?: TrainOptions["fastPath"];
  onProgress?: (message: string) => void;
  onWarning?: (message: string) => void;
}

/** The part of an EvalReport the retrain report keeps. */
export interface ModelMetrics {
  version: string;
  /** Registry version name (v0003). */
  registryVersion: string;
  n: number;
  accuracy: number;
  macroF1: number;
  coverage: number;
  acceptedAccuracy: number;
  outOfScope?: { n: number; recall: number };
}

export interface RetrainReport {
  promoted: boolean;
  /**
   * false when nothing was trained: the data was unchanged since the current version, too little was held
   * out to compare on, or an earlier candidate trained on this same data was measured again (`reused`).
   */
  trained: boolean;
  reused?: boolean;
  reason: string;
  metric: RetrainMetric;
  minDelta: number;
  registry: string;
  /** Registry version serving after this run. */
  served: string;
  /** The newly trained version (kept on disk even when not promoted); null when nothing was trained. */
  candidateVersion: string | null;
  /** Set when this run first turned a plain artifact at `registry` into its first version. */
  adopted?: string;
  /** Candidate on the held-out data (null when there was none). */
  candidate: ModelMetrics | null;
  /** The version that was current when the run started, on the same data (null on an empty registry or without held-out data). */
  current: ModelMetrics | null;
  /** Held-out examples: the eval set, recent human labels, and queries people marked out of scope; `min` needed to compare. */
  heldOut: { eval: number; human: number; min: number };
  training: { examples: number; base: number; fromLog: number };
  provenance: Provenance;
  pruned: string[];
  seconds: number;
}

/**
 * Retrains from the base data plus the decision log, evaluates candidate and current model on the same
 * held-out data, and switches the registry's pointer only if the candidate is not worse. A process killed
 * at any point leaves the current model untouched: the candidate is built under a temporary name and the
 * pointer is replaced by rename.
 */
export async function retrain(options: RetrainOptions): Promise<RetrainReport> {
  const t0 = performance.now();
  const progress = options.onProgress ?? (() => {});
  let adopted: Adoption | undefined;
  const registry = await openRegistry(options.registry, (a) => {
    adopted = a;
    progress(`${options.registry} held a plain model artifact: adopted it as ${a.version}, the registry's first version`);
  });
  const release = acquireLock(join(registry.root, ".retrain.lock"), `retraining ${registry.root}`);
  const ownEncoder: Encoder[] = [];
  try {
    const currentVersion = registry.current();
    const currentManifest: Manifest | null = currentVersion ? readManifest(registry.versionDir(currentVersion)) : null;
    const config = resolveRoutesConfig(options.config) ?? currentManifest?.config;
    const labels = config?.labels.map((l) => l.name);

    const base = typeof options.baseData === "string" ? loadExamples(options.baseData, { allowedLabels: labels }).examples : [...options.baseData];
    const evalSet = options.evalData === undefined ? [] : typeof options.evalData === "string" ? loadExamples(options.evalData).examples : [...options.evalData];

    progress(`reading decisions from ${options.logDb}`);
    const log = await openDecisionLog(options.logDb, { readonly: true });
    let set: TrainingSet;
    try {
      const trainLabels = labels ?? [...new Set(base.map((e) => e.label))].sort();
      set = buildTrainingSet(base, await syncRows(log.rows(options.since !== undefined ? { since: options.since } : {})), {
        labels: trainLabels,
        ordered: config?.ordered ?? false,
        includeHighConfidence: options.includeHighConfidence,
        fallbackAgreements: options.fallbackAgreements,
        heldOut: options.heldOut,
      });
    } finally {
      await log.close();
    }
    const heldOut = [...evalSet, ...set.heldOut];
    const fromLog = set.examples.length - set.provenance.sources.base.used;
    const metric = options.metric ?? "accuracy";
    const minDelta = options.minDelta ?? 0;
    const minHeldOut = options.minHeldOut ?? DEFAULT_MIN_HELD_OUT;
    const report: Omit<RetrainReport, "promoted" | "trained" | "reason" | "served" | "current" | "candidate" | "candidateVersion" | "pruned" | "seconds"> = {
      metric,
      minDelta,
      registry: registry.root,
      ...(adopted ? { adopted: adopted.version } : {}),
      heldOut: { eval: evalSet.length, human: set.heldOut.length, min: minHeldOut },
      training: { examples: set.examples.length, base: set.provenance.sources.base.used, fromLog },
      provenance: set.provenance,
    };
    const untrained = (reason: string): RetrainReport => ({
      promoted: false,
      trained: false,
      reason,
      ...report,
      served: currentVersion!,
      candidateVersion: null,
      candidate: null,
      current: null,
      pruned: [],
      seconds: (performance.now() - t0) / 1000,
    });
    let reuse: string | undefined;
    if (currentVersion && currentManifest) {
      // What train() records as manifest.data.sha256 for in-memory examples: the same data gives the same hash.
      const dataSha = sha256(set.examples.map((e) => `${e.label}\t${e.text}`).join("\n"));
      if (dataSha === currentManifest.data.sha256 && JSON.stringify(config) === JSON.stringify(currentManifest.config))
        return untrained(
          `kept ${currentVersion}: the training data is unchanged since it was trained (${set.examples.length} examples, sha256 ${dataSha.slice(0, 12)}); label more queries or add data, then retrain`,
        );
      if (heldOut.length < minHeldOut)
        return untrained(
          `kept ${currentVersion}: ${heldOut.length} held-out example(s) (${evalSet.length} from --eval, ${set.heldOut.length} from recent human labels) are too few to compare on; ` +
            `a comparison needs at least ${minHeldOut} (minHeldOut / --min-held-out). Pass a labelled eval set with --eval, or label more queries`,
        );
      // An earlier run trained on exactly this data and it was not promoted: measure it again (the held-out data may have
      // grown) rather than train an identical copy each run.
      reuse = registry
        .list()
        .reverse()
        .find(
          (v) =>
            v.version !== currentVersion &&
            v.manifest?.data.sha256 === dataSha &&
            JSON.stringify(v.manifest.config) === JSON.stringify(config) &&
            v.manifest.encoder.fingerprint === currentManifest.encoder.fingerprint,
        )?.version;
    }

    let encoder = options.encoder;
    let encoderRef = options.encoderRef;
    if (!encoder) {
      if (currentManifest) {
        encoder = new CachedEncoder(await encoderForArtifact(currentManifest.encoder), DEFAULT_CACHE_PATH);
        encoderRef = currentManifest.encoder;
      } else {
        const r = await resolveEncoder({ spec: options.encoderSpec ?? "auto" });
        encoder = r.encoder;
        encoderRef = r.ref;
      }
      ownEncoder.push(encoder);
    } else encoderRef ??= currentManifest?.encoder;

    const version = reuse ?? options.candidateVersion ?? registry.nextVersion();
    const dir = registry.versionDir(version);
    if (reuse) progress(`${reuse} was trained on this same data by an earlier run: measuring it again instead of training a copy`);
    else progress(`training candidate ${version} on ${set.examples.length} examples (${fromLog} from the log)`);
    if (!reuse)
      await train({
        data: set.examples,
        config,
        encoder,
        encoderRef,
        out: dir,
        folds: options.folds,
        seed: options.seed,
        targetAccuracy: options.targetAccuracy,
        ...(options.fastPath !== undefined ? { fastPath: options.fastPath } : {}),
        onWarning: options.onWarning,
        onProgress: (p) => {
          if (p.phase === "crossval") progress(`cross-validation fold ${p.fold}/${p.folds}`);
          else if (p.phase === "fit") progress("fitting on all examples");
        },
      });

    const finish = (promoted: boolean, reason: string, candidate: ModelMetrics | null, current: ModelMetrics | null): RetrainReport => {
      const pruned = promoted ? registry.prune(options.keepVersions ?? DEFAULT_KEEP_VERSIONS) : [];
      const out: RetrainReport = {
        promoted,
        trained: !reuse,
        reason: reuse ? `${reason} (candidate ${version} reused: trained on the same data by an earlier run)` : reason,
        ...(reuse ? { reused: true } : {}),
        ...report,
        served: registry.current() ?? version,
        candidateVersion: version,
        candidate,
        current,
        pruned,
        seconds: (performance.now() - t0) / 1000,
      };
      registry.writeReport(version, out);
      return out;
    };

    let candidateMetrics: ModelMetrics | null = null;
    if (heldOut.length > 0) {
      progress(`evaluating ${version} on ${heldOut.length} held-out examples`);
      candidateMetrics = await measure(dir, version, encoder, heldOut);
    }
    if (!currentVersion) {
      await registry.promote(version);
      return finish(true, "the registry had no current version", candidateMetrics, null);
    }
    progress(`evaluating current ${currentVersion} on the same data`);
    const currentMetrics = await measure(registry.versionDir(currentVersion), currentVersion, encoder, heldOut);
    const delta = candidateMetrics![metric] - currentMetrics[metric];
    const verdict = `${metric} ${fmt(candidateMetrics![metric])} (candidate ${version}) vs ${fmt(currentMetrics[metric])} (current ${currentVersion}) on ${heldOut.length} held-out examples: delta ${delta >= 0 ? "+" : ""}${fmt(delta)}`;
    // The pointer may have moved (rollback) while we trained: compare against what serves now, then switch.
    if (registry.current() !== currentVersion) return finish(false, `the current version changed during retraining; not switching. ${verdict}`, candidateMetrics, currentMetrics);
    if (delta + 1e-12 < minDelta)
      return finish(false, `kept ${currentVersion}: candidate is worse by the metric (${verdict}, needs >= ${fmt(minDelta)})`, candidateMetrics, currentMetrics);
    // Accuracy is measured on in-scope queries only: a candidate that got there by calling everything in scope would pass it.
    const oos = { candidate: candidateMetrics!.outOfScope, current: currentMetrics.outOfScope, maxDrop: options.maxOutOfScopeDrop ?? DEFAULT_MAX_OOS_DROP };
    if (oos.candidate && oos.current && oos.candidate.recall + oos.maxDrop + 1e-12 < oos.current.recall)
      return finish(
        false,
        `kept ${currentVersion}: candidate catches fewer out-of-scope queries (${fmt(oos.candidate.recall)} vs ${fmt(oos.current.recall)} on ${oos.current.n}, allowed drop ${fmt(oos.maxDrop)}); ${verdict}`,
        candidateMetrics,
        currentMetrics,
      );
    await registry.promote(version, { expectCurrent: currentVersion });
    return finish(true, `promoted ${version}: ${verdict}`, candidateMetrics, currentMetrics);
  } finally {
    for (const e of ownEncoder) await e.close?.();
    release();
  }
}

async function measure(dir: string, registryVersion: string, encoder: Encoder, examples: readonly Example[]): Promise<ModelMetrics> {
  // No close(): that would close the shared encoder; the router holds nothing else that needs releasing.
  const router = await Router.load(dir, { encoder });
  const r: EvalReport = await evaluate(router, examples);
  return {
    version: router.version,
    registryVersion,
    n: examples.length,
    accuracy: r.accuracy,
    macroF1: r.macroF1,
    coverage: r.coverage,
    acceptedAccuracy: r.acceptedAccuracy,
    ...(r.outOfScope ? { outOfScope: r.outOfScope } : {}),
  };
}

const fmt = (x: number) => x.toFixed(4);

/** Held-out examples a comparison needs by default: at 50, one example is 2 points of accuracy. */
export const DEFAULT_MIN_HELD_OUT = 50;

/** Out-of-scope recall a candidate may lose against the current version (2 points, as for the fast path). */
const DEFAULT_MAX_OOS_DROP = 0.02;

/** SQLite's rows stream as they are; PostgreSQL's pages are gathered first (buildTrainingSet reads synchronously). */
async function syncRows(rows: Iterable<LoggedDecision> | AsyncIterable<LoggedDecision>): Promise<Iterable<LoggedDecision>> {
  if (Symbol.iterator in rows) return rows;
  const all: LoggedDecision[] = [];
  for await (const d of rows) all.push(d);
  return all;
}
