/**
 * @module `triage retrain` for an outcome model: a candidate fitted on the base outcome data plus the
 * per-model outcomes in the decision log (logged.ts), measured beside the current version on held-out
 * outcomes with every score known, and promoted only if it is not worse on cost and quality. The same
 * registry, lock, report and rollback as tier models' retrain.
 */
import { TriageError } from "../common/errors.js";
import { CachedEncoder } from "../encoders/cache.js";
import { DEFAULT_CACHE_PATH, encoderForArtifact } from "../encoders/resolve.js";
import type { Encoder } from "../encoders/types.js";
import { DEFAULT_KEEP_VERSIONS, ModelRegistry } from "../model/registry.js";
import { acquireLock } from "../retrain/lock.js";
import { openDecisionLog } from "../store/index.js";
import type { LoggedDecision } from "../store/types.js";
import { type EstimatorAsked, loadOutcomeModel, type OutcomeManifest, readOutcomeManifest, writeOutcomeArtifact } from "./artifact.js";
import { anchorsFor } from "./baselines.js";
import { describeDial, settingFor } from "./dial.js";
import { fitOutcomeModel } from "./fit.js";
import { loadOutcomes } from "./load.js";
import { loggedOutcomes } from "./logged.js";
import { type Anchors, aiqStaircase } from "./metrics.js";
import { applyPrices } from "./prices.js";
import { completeRows, type OutcomeSet } from "./set.js";
import { choose, pointFor, sweepRule } from "./sweep.js";
import { join } from "node:path";

export type OutcomeRetrainMetric = "aiq" | "saving";

export interface OutcomeRetrainOptions {
  registry: string;
  /** The base outcome data the current version was trained on (a file or folder eval-routing reads). */
  baseData: string;
  logDb: string;
  /** Held-out outcomes (every score known on the rows used) both versions are measured on. */
  evalData?: string;
  /**
   * aiq (default): the area under the quality-cost staircase on the held-out rows; saving: the share of the
   * strongest model's cost saved at the deployment's quality floor, counted only when the floor is reached.
   */
  metric?: OutcomeRetrainMetric;
  minDelta?: number;
  minHeldOut?: number;
  since?: number;
  keepVersions?: number;
  /** The name a newly trained candidate gets (default: the registry's next); a shared registry reserves it. */
  candidateVersion?: string;
  /** Cross-validation folds, fold partitions and head dimensions (fit.ts); each not given is what the current version was given, else the default. */
  folds?: number;
  cvRepeats?: number;
  headDimensions?: number;
  seed?: number;
  onProgress?: (message: string) => void;
}

/** One version on the held-out rows. */
export interface OutcomeMetrics {
  registryVersion: string;
  n: number;
  /** Staircase AIQ: mean best quality reachable per budget between the cheapest and strongest model's costs. */
  aiq: number;
  /** At the model's default dial: quality and cost relative to always calling the strongest model. */
  atDial: { dial: string; relativeQuality: number; saving: number };
  /** `saving` when the dial's quality floor was reached, else 0 (the saving metric). */
  savingAtFloor: number;
}

export interface OutcomeRetrainReport {
  kind: "outcomes";
  promoted: boolean;
  trained: boolean;
  reason: string;
  metric: OutcomeRetrainMetric;
  minDelta: number;
  registry: string;
  served: string;
  candidateVersion: string | null;
  candidate: OutcomeMetrics | null;
  current: OutcomeMetrics | null;
  heldOut: { eval: number; min: number };
  training: { prompts: number; base: number; fromLog: number; outcomes: number; skipped: { noText: number; unknownModel: number } };
  pruned: string[];
  seconds: number;
}

/** Held-out rows an outcome comparison needs by default. */
export const DEFAULT_MIN_HELD_OUT_OUTCOMES = 20;

export async function retrainOutcomes(options: OutcomeRetrainOptions): Promise<OutcomeRetrainReport> {
  const t0 = performance.now();
  const progress = options.onProgress ?? (() => {});
  const registry = new ModelRegistry(options.registry);
  const currentVersion = registry.current();
  if (!currentVersion) throw new TriageError(`${registry.root}: no current version; train one with \`triage train --outcomes FILE --registry ${options.registry}\``);
  const release = acquireLock(join(registry.root, ".retrain.lock"), `retraining ${registry.root}`);
  const ownEncoders: Encoder[] = [];
  try {
    const current = readOutcomeManifest(registry.versionDir(currentVersion));
    const o = current.outcomes;
    const base = withModelCosts(loadOutcomes(options.baseData, { lastQuestionOnly: o.lastQuestionOnly }), current, options.baseData);
    const evalSet = options.evalData
      ? completeRows(withModelCosts(loadOutcomes(options.evalData, { lastQuestionOnly: o.lastQuestionOnly }), current, options.evalData))
      : undefined;

    progress(`reading logged outcomes from ${options.logDb}`);
    const log = await openDecisionLog(options.logDb, { readonly: true });
    let logged: ReturnType<typeof loggedOutcomes>;
    try {
      // SQLite yields rows as it reads them, PostgreSQL page by page; `for await` takes both.
      const rows: LoggedDecision[] = [];
      for await (const row of log.rows(options.since !== undefined ? { since: options.since } : {})) rows.push(row);
      logged = loggedOutcomes(rows, o.models, o.meanCost, o.lastQuestionOnly);
    } finally {
      await log.close();
    }
    const set: OutcomeSet = { ...base, prompts: [...base.prompts, ...logged.prompts] };
    const metric = options.metric ?? "aiq";
    const minDelta = options.minDelta ?? 0;
    const minHeldOut = options.minHeldOut ?? DEFAULT_MIN_HELD_OUT_OUTCOMES;
    const heldOutN = evalSet?.prompts.length ?? 0;
    const common = {
      kind: "outcomes" as const,
      metric,
      minDelta,
      registry: registry.root,
      heldOut: { eval: heldOutN, min: minHeldOut },
      training: { prompts: set.prompts.length, base: base.prompts.length, fromLog: logged.prompts.length, outcomes: logged.outcomes, skipped: logged.skipped },
    };
    const untrained = (reason: string): OutcomeRetrainReport => ({
      ...common,
      promoted: false,
      trained: false,
      reason,
      served: currentVersion,
      candidateVersion: null,
      candidate: null,
      current: null,
      pruned: [],
      seconds: (performance.now() - t0) / 1000,
    });
    if (logged.prompts.length === 0) return untrained(`kept ${currentVersion}: the log holds no per-model outcome (gate verdicts, thumbs or scores) to learn from`);
    if (!evalSet || heldOutN < minHeldOut)
      return untrained(
        `kept ${currentVersion}: ${heldOutN} held-out prompt(s) with every score known are too few to compare on; a comparison needs at least ${minHeldOut}. Pass held-out outcomes with --eval`,
      );

    const encoder: Encoder = new CachedEncoder(await encoderForArtifact(current.encoder), DEFAULT_CACHE_PATH);
    ownEncoders.push(encoder);
    progress(`embedding ${set.prompts.length} prompts (${logged.prompts.length} from the log) and ${heldOutN} held out`);
    const vectors = await encoder.embed(set.prompts.map((p) => p.text));
    const evalVectors = await encoder.embed(evalSet.prompts.map((p) => p.text));
    const asked = estimatorAsked(o, options);
    const fitted = await fitOutcomeModel(set, vectors, { ...asked, seed: options.seed ?? o.cv.seed, log: progress });
    const version = options.candidateVersion ?? registry.nextVersion();
    const dir = registry.versionDir(version);
    progress(`writing candidate ${version}`);
    await writeOutcomeArtifact({
      out: dir,
      set,
      fitted,
      asked,
      encoder: current.encoder,
      seed: options.seed ?? o.cv.seed,
      defaultDial: o.dial.default,
      ...(o.prices ? { prices: o.prices } : {}),
      lastQuestionOnly: o.lastQuestionOnly,
    });

    progress(`measuring ${version} and ${currentVersion} on ${heldOutN} held-out prompts`);
    const anchors = anchorsOf(evalSet, current);
    const candidate = await measure(dir, version, evalSet, evalVectors, anchors);
    const before = await measure(registry.versionDir(currentVersion), currentVersion, evalSet, evalVectors, anchors);
    const value = (m: OutcomeMetrics) => (metric === "aiq" ? m.aiq : m.savingAtFloor);
    const delta = value(candidate) - value(before);
    const verdict = `${metric} ${fmt(value(candidate))} (candidate ${version}) vs ${fmt(value(before))} (current ${currentVersion}) on ${heldOutN} held-out prompts: delta ${delta >= 0 ? "+" : ""}${fmt(delta)}`;
    const finish = (promoted: boolean, reason: string): OutcomeRetrainReport => {
      const pruned = promoted ? registry.prune(options.keepVersions ?? DEFAULT_KEEP_VERSIONS) : [];
      const out: OutcomeRetrainReport = {
        ...common,
        promoted,
        trained: true,
        reason,
        served: registry.current() ?? currentVersion,
        candidateVersion: version,
        candidate,
        current: before,
        pruned,
        seconds: (performance.now() - t0) / 1000,
      };
      registry.writeReport(version, out);
      return out;
    };
    if (registry.current() !== currentVersion) return finish(false, `the current version changed during retraining; not switching. ${verdict}`);
    if (delta + 1e-12 < minDelta) return finish(false, `kept ${currentVersion}: candidate is worse on cost and quality (${verdict}, needs >= ${fmt(minDelta)})`);
    await registry.promote(version, { expectCurrent: currentVersion });
    return finish(true, `promoted ${version}: ${verdict}`);
  } finally {
    for (const e of ownEncoders) await e.close?.();
    release();
  }
}

/** The data in the model's column order, its missing costs priced as the model's were (its price list). */
function withModelCosts(set: OutcomeSet, m: OutcomeManifest, where: string): OutcomeSet {
  const models = m.outcomes.models;
  const missing = models.filter((name) => !set.models.includes(name));
  if (missing.length > 0) throw new TriageError(`${where}: no outcomes for model(s) ${missing.join(", ")} of ${m.version} (it routes among ${models.join(", ")})`);
  const columns = models.map((name) => set.models.indexOf(name));
  const prompts = set.prompts.map((p) => ({ ...p, scores: Float64Array.from(columns, (c) => p.scores[c]), costs: Float64Array.from(columns, (c) => p.costs[c]) }));
  const ordered: OutcomeSet = { ...set, models: [...models], prompts };
  const unpriced = prompts.some((p) => p.costs.some((c) => Number.isNaN(c)));
  if (!unpriced) return ordered;
  if (!m.outcomes.prices) throw new TriageError(`${where}: some costs are missing and ${m.version} was trained without a price list`);
  return applyPrices(ordered, m.outcomes.prices, `${m.version}'s price list`);
}

/** Always the cheapest model and always the strongest, on the held-out rows: the ends of every curve. */
function anchorsOf(set: OutcomeSet, m: OutcomeManifest): Anchors {
  return anchorsFor(set, m.outcomes.byCost[0], m.outcomes.strong);
}

async function measure(dir: string, registryVersion: string, set: OutcomeSet, vectors: readonly Float32Array[], anchors: Anchors): Promise<OutcomeMetrics> {
  const { manifest, predictor } = await loadOutcomeModel(dir);
  const o = manifest.outcomes;
  const rule = o.dial.calibration.rule;
  const preds = vectors.map((v, i) => predictor.predict(v, set.prompts[i].text));
  const curve = sweepRule(set, preds, predictor.byCost, predictor.relativeCost, predictor.strong, rule);
  const setting = settingFor(o.dial.calibration, o.dial.default);
  const at = pointFor(
    set,
    preds.map((p) => choose(rule, p, predictor.byCost, predictor.relativeCost, setting)),
    predictor.strong,
    setting,
  );
  const relativeQuality = anchors.strongQuality === 0 ? 0 : at.quality / anchors.strongQuality;
  const saving = anchors.strongCost === 0 ? 0 : 1 - at.cost / anchors.strongCost;
  const floor = "quality" in o.dial.default ? o.dial.default.quality : 0;
  return {
    registryVersion,
    n: set.prompts.length,
    aiq: aiqStaircase(curve.points, anchors),
    atDial: { dial: describeDial(o.dial.default), relativeQuality, saving },
    savingAtFloor: relativeQuality + 1e-12 >= floor ? saving : 0,
  };
}

const fmt = (x: number) => x.toFixed(4);

/**
 * What the candidate's training is told: as asked, else what the current version's was told, so a model
 * trained with `--cv-repeats 1` for speed, or another head width, is not retrained with the defaults.
 * Anything neither says takes the defaults (fit.ts), which suit the candidate's own size.
 */
export function estimatorAsked(o: OutcomeManifest["outcomes"], options: Pick<OutcomeRetrainOptions, "folds" | "cvRepeats" | "headDimensions">): EstimatorAsked {
  const was = o.cv.asked ?? {};
  return {
    folds: options.folds ?? was.folds,
    repeats: options.cvRepeats ?? was.repeats,
    headDimensions: options.headDimensions ?? was.headDimensions,
  };
}
