/**
 * @module The run-time router (router/): `Router` applies rules, the exact-repeat cache, the fast path's bands, the
 * combined scores and the low-confidence policy. It owns the ports it is given (DecisionSink,
 * FallbackClassifier in hooks.ts; Decision in types.ts); store/ and fallback/ implement them.
 */

import { randomUUID } from "node:crypto";
import { TriageError } from "../common/errors.js";
import { assertSameEncoder, encoderForArtifact } from "../encoders/resolve.js";
import type { Encoder, EncoderRef } from "../encoders/types.js";
import { readManifest, type Manifest } from "../model/artifact.js";
import { resolveModelDir } from "../model/registry.js";
import { isConfident } from "../model/confidence.js";
import { pickStaticCut, type StaticCut } from "../model/static-cut.js";
import { scoreParts, type PartScores } from "../model/parts.js";
import { blendScores, centroidDistribution, combine, decide, knnDistribution, type Combination } from "../model/scoring.js";
import type { FittedParts } from "../model/parts.js";
import { normalizeQuery } from "../common/text.js";
import { LruCache } from "./lru.js";
import type { DecisionSink, FallbackClassifier } from "./hooks.js";
import { loadModel, type LoadedModel } from "../model/load.js";
import { compileRules, type CompiledRule } from "./rules.js";
import type { BatchClassifyOptions, ClassifyOptions, Decision, DecidedBy, LowConfidencePolicy, Neighbour, Stage } from "./types.js";
import { modelStamp, watchReloads, type ModelWatcher, type WatchOptions } from "../model/watch.js";

/** One stage's scoring of a query: its decision, the parts' raw scores, and what a Decision reports of it. */
interface Scored {
  top: ReturnType<typeof decide>;
  raw: PartScores;
  /** The combined scores, in the manifest's label order. */
  combined: Float64Array;
  base: { modelLabel: string; confidence: number; margin: number; scores: Record<string, number>; neighbours: Neighbour[] };
}

/**
 * What the static stage found for a query it left to the full encoder (its margin fell between its two
 * thresholds). A blend reads the same scores, so they are kept rather than computed again.
 */
interface StaticLook {
  /** The static stage it came from: after a reload, another stage scores afresh. */
  stage: NonNullable<LoadedModel["staticStage"]>;
  vector: Float32Array;
  scored: Scored;
}

/** A rule, cached or fast-path decision; or none yet, with what the static stage saw if it looked. */
type Early = { decision: Decision | Promise<Decision> } | { look?: StaticLook };

/** A full-encoder embedding, kept for repeats; with the static stage's vector of the same text when a blend read it. */
interface Embedded {
  full: Float32Array;
  /** From the static encoder with this fingerprint (a reloaded model may have another). */
  fast?: { fingerprint: string; vector: Float32Array };
}

export interface RouterOptions extends WatchOptions {
  /** Encoder to use; must match the artifact's. Default: the artifact's own encoder. A given encoder stays the caller's to close. */
  encoder?: Encoder;
  /** Asked below the margin when the policy is "fallback". */
  fallback?: FallbackClassifier;
  /** Receives every decision (e.g. a DecisionLog). */
  sink?: DecisionSink;
  /** Queries longer than this are cut before embedding (long input is not an error). */
  maxChars?: number;
  /** Encoder threads (ONNX). */
  threads?: number;
  /** Overrides the artifact's policy.lowConfidence (e.g. force "fallback"). */
  lowConfidence?: LowConfidencePolicy;
  /** Use the artifact's static fast-path stage when it has one (default true). */
  cascade?: boolean;
  /**
   * Accuracy (share of queries) the fast path may give up against the full encoder: picks the artifact's
   * recorded operating point with the largest tolerance not above this. Default: the one chosen at training.
   */
  fastPathTolerance?: number;
  /** Full-encoder embeddings kept for exact repeats (normalised text); 0 disables (default 10,000). */
  cacheSize?: number;
  /** A loaded artifact could not be verified (written before checksums were recorded). Default: a process warning. */
  onWarning?: (message: string) => void;
}

/** The encoder `dir`'s manifest names, loading; undefined (never a rejection) when anything fails: loadModel then says why. */
function startEncoder(dir: string, threads: number | undefined): Promise<Encoder | undefined> {
  try {
    return encoderForArtifact(readManifest(resolveModelDir(dir)).encoder, { threads }).catch(() => undefined);
  } catch {
    return Promise.resolve(undefined);
  }
}

const sameEncoder = (ref: EncoderRef, encoder: Encoder) => ref.id === encoder.id && ref.fingerprint === encoder.fingerprint;

const DEFAULT_MAX_CHARS = 4000;
const DEFAULT_CACHE_SIZE = 10_000;
const NEIGHBOURS_FOR_FALLBACK = 5;

/** Routes queries with a trained artifact: rules, then kNN + centroids + head, then the low-confidence policy. */
export class Router {
  /** What the artifact routes between: tiers (or named routes). OutcomeRouter's is "outcomes". */
  readonly kind = "tiers";
  private readonly rules: CompiledRule[];
  private watcher: ModelWatcher | undefined;
  private readonly embeddings: LruCache<Embedded>;
  /** The static stage's bands at the requested operating point, picked once per model. */
  private staticCut: StaticCut | undefined;

  private constructor(
    private model: LoadedModel,
    readonly encoder: Encoder,
    private readonly options: RouterOptions,
  ) {
    this.rules = compileRules(model.manifest.config.rules);
    this.embeddings = new LruCache(options.cacheSize ?? DEFAULT_CACHE_SIZE);
    this.staticCut = pickStaticCut(model.staticStage?.manifest, options.fastPathTolerance);
  }

  /** The LLM classifier asked below the margin, if any. */
  get fallback(): FallbackClassifier | undefined {
    return this.options.fallback;
  }

  static async load(dir: string, options: RouterOptions = {}): Promise<Router> {
    const stamp = options.watch ? modelStamp(dir) : null; // before loading, so a switch during load is seen
    // The encoder (USE-Lite builds its graph and opens its session on a worker thread) loads while the artifact does.
    const early = options.encoder ? undefined : startEncoder(dir, options.threads);
    let model: LoadedModel;
    try {
      model = await loadModel(dir, { onWarning: options.onWarning });
    } catch (err) {
      // Wait for the encoder before failing: a caller that exits at once (the CLI) would tear the process
      // down while onnxruntime still builds its session on the worker thread, and abort (SIGABRT) instead of
      // exiting with the artifact's error.
      await early?.then((e) => e?.close?.()).catch(() => {});
      throw err; // the artifact's own error comes first, as when the encoder loaded after it
    }
    let encoder = options.encoder ?? (await early);
    if (encoder && !options.encoder && !sameEncoder(model.manifest.encoder, encoder)) {
      await encoder.close?.(); // the registry switched versions between the two reads
      encoder = undefined;
    }
    if (encoder) assertSameEncoder(model.manifest.encoder, encoder);
    else encoder = await encoderForArtifact(model.manifest.encoder, { threads: options.threads });
    const router = new Router(model, encoder, options);
    router.watcher = watchReloads(router, stamp, options);
    return router;
  }

  get manifest(): Manifest {
    return this.model.manifest;
  }

  get labels(): readonly string[] {
    return this.model.manifest.labels;
  }

  get version(): string {
    return this.model.manifest.version;
  }

  get dir(): string {
    return this.model.dir;
  }

  /**
   * Cheapest first: config rules, then a cached embedding of an exact repeat, then the static fast
   * path when its margin clears its calibrated threshold, then the full encoder and the policy.
   */
  async classify(text: string, options: ClassifyOptions = {}): Promise<Decision> {
    const start = performance.now();
    const query = this.prepare(text);
    const early = this.decideWithoutFullEncoder(query, options, start);
    if ("decision" in early) return this.finish(await early.decision, text, options);
    const [vector] = await this.encoder.embed([query]);
    const embedded: Embedded = { full: vector };
    this.embeddings.set(normalizeQuery(query), embedded);
    return this.finish(await this.decideVector(query, embedded, options, start, "full", early.look), text, options);
  }

  /**
   * Classifies many queries; those that need the full encoder share one batched embedding call.
   * `requestIds` gives each query its own id (the sink logs it with that id); by default each gets a fresh one.
   * `queryTags` gives each query its own tags, logged over the shared `tags`.
   */
  async classifyBatch(texts: readonly string[], options: BatchClassifyOptions = {}): Promise<Decision[]> {
    const start = performance.now();
    const { requestIds, queryTags, ...shared } = options;
    for (const [what, list] of [
      ["request ids", requestIds],
      ["query tags", queryTags],
    ] as const)
      if (list && list.length !== texts.length) throw new TriageError(`classifyBatch: ${list.length} ${what} for ${texts.length} queries; give one per query`, "E_INPUT");
    const each: ClassifyOptions[] = texts.map((_, i) => {
      const own = queryTags?.[i];
      const tags = own ? { ...shared.tags, ...own } : shared.tags;
      return { ...shared, ...(tags ? { tags } : {}), ...(requestIds ? { requestId: requestIds[i] } : {}) };
    });
    const queries = texts.map((t) => this.prepare(t));
    const out = new Array<Decision>(queries.length);
    const pending: number[] = [];
    const looks: (StaticLook | undefined)[] = [];
    for (let i = 0; i < queries.length; i++) {
      const early = this.decideWithoutFullEncoder(queries[i], each[i], start);
      if ("decision" in early) out[i] = await early.decision;
      else {
        pending.push(i);
        looks.push(early.look);
      }
    }
    const vectors = await this.encoder.embed(pending.map((i) => queries[i]));
    for (let k = 0; k < pending.length; k++) {
      const i = pending[k];
      const embedded: Embedded = { full: vectors[k] };
      this.embeddings.set(normalizeQuery(queries[i]), embedded);
      out[i] = await this.decideVector(queries[i], embedded, each[i], start, "full", looks[k]);
    }
    return out.map((d, i) => this.finish(d, texts[i], each[i]));
  }

  /** Swaps in another artifact (same encoder) without dropping in-flight requests. */
  async reload(dir: string = this.model.dir): Promise<void> {
    const next = await loadModel(dir, { onWarning: this.options.onWarning });
    assertSameEncoder(next.manifest.encoder, this.encoder);
    this.model = next;
    this.staticCut = pickStaticCut(next.staticStage?.manifest, this.options.fastPathTolerance);
    this.rules.splice(0, this.rules.length, ...compileRules(next.manifest.config.rules));
    // Cached decisions belong to the old model's index; embeddings stay valid (same encoder).
  }

  async close(): Promise<void> {
    this.watcher?.stop();
    // Only the encoder this router loaded: one passed in may serve other routers too.
    if (!this.options.encoder) await this.encoder.close?.();
  }

  private prepare(text: string): string {
    if (typeof text !== "string") throw new TriageError("query must be a string", "E_INPUT");
    if (text.trim() === "") throw new TriageError("query is empty", "E_INPUT");
    const max = this.options.maxChars ?? DEFAULT_MAX_CHARS;
    return text.length > max ? text.slice(0, max) : text;
  }

  private matchRule(query: string, options: ClassifyOptions, start: number): Decision | undefined {
    const rule = this.rules.find((r) => r.test(query));
    if (!rule) return undefined;
    const scores = Object.fromEntries(this.labels.map((l) => [l, l === rule.label ? 1 : 0]));
    return this.decision(options, start, {
      label: rule.label,
      modelLabel: rule.label,
      confidence: 1,
      margin: 1,
      scores,
      neighbours: [],
      decidedBy: "rule",
      lowConfidence: false,
      stage: "rule",
    });
  }

  /** A rule, a cached repeat or a confident fast-path decision; none when the full encoder is needed. */
  private decideWithoutFullEncoder(query: string, options: ClassifyOptions, start: number): Early {
    const rule = this.matchRule(query, options, start);
    if (rule) return { decision: rule };
    const cached = this.embeddings.get(normalizeQuery(query));
    if (cached) return { decision: this.decideVector(query, cached, options, start, "cache") };
    const fast = this.options.cascade === false ? undefined : this.model.staticStage;
    const cut = this.staticCut;
    if (!fast || !cut) return {};
    const vector = fast.encoder.embedOne(query);
    const scored = this.score(fast.parts, fast.manifest.combination, query, vector, options);
    // Novel even in the static space: low-confidence either way, so the full encoder would add nothing.
    if ((scored.raw.hits[0]?.similarity ?? -1) < fast.manifest.minSimilarity) return { decision: this.lowConfidence(query, scored, "static", options, start) };
    if (scored.top.margin >= cut.threshold)
      return { decision: this.decision(options, start, { ...scored.base, stage: "static", label: scored.base.modelLabel, decidedBy: "model", lowConfidence: false }) };
    // Far below the threshold: the full router would mostly be unsure too (calibrated), so settle it here.
    if (scored.top.margin < cut.lowThreshold) return { decision: this.lowConfidence(query, scored, "static", options, start) };
    return { look: { stage: fast, vector, scored } };
  }

  /** Combined kNN / centroid / head scores of one stage's parts. */
  private score(parts: FittedParts, c: Combination, query: string, vector: Float32Array, options: ClassifyOptions): Scored {
    const { manifest } = this.model;
    const L = manifest.labels.length;
    const raw = scoreParts(parts, query, vector, Math.max(c.k, options.topK ?? 5), { centroid: c.centroid === 0, head: c.head === 0 });
    const combined = combine({ knn: knnDistribution(raw.hits, L, c.k, c.knnTemperature), centroid: centroidDistribution(raw.centroid, c.centroidTemperature), head: raw.head }, c);
    const top = decide(combined);
    const neighbours: Neighbour[] = raw.hits.slice(0, options.topK ?? 5).map((h) => ({ label: manifest.labels[h.label], similarity: h.similarity, exampleId: h.id }));
    const scores = Object.fromEntries(manifest.labels.map((l, i) => [l, combined[i]]));
    const base = { modelLabel: manifest.labels[top.best], confidence: top.confidence, margin: top.margin, scores, neighbours };
    return { top, raw, combined, base };
  }

  /** `look`: the static stage's scores of this query, when it just computed them (see StaticLook). */
  private async decideVector(query: string, embedded: Embedded, options: ClassifyOptions, start: number, stage: "full" | "cache", look?: StaticLook): Promise<Decision> {
    const { manifest, parts, staticStage } = this.model;
    const own = this.score(parts, manifest.combination, query, embedded.full, options);
    const blend = staticStage?.manifest.blend;
    let scored = own;
    if (blend) {
      // The static stage's scores, blended in, make the full encoder's decisions more accurate (train/blend.ts).
      // Its vector is kept with the full one, so that a repeat (case and spacing aside) is decided the same.
      const { encoder } = staticStage;
      const seen = look?.stage === staticStage ? look : undefined;
      if (embedded.fast?.fingerprint !== encoder.fingerprint) embedded.fast = { fingerprint: encoder.fingerprint, vector: seen?.vector ?? encoder.embedOne(query) };
      const fast = seen?.scored ?? this.score(staticStage.parts, staticStage.manifest.combination, query, embedded.fast.vector, options);
      scored = this.blended(own, fast, blend.weight);
    }
    const calibration = blend ? { ...manifest.calibration, threshold: blend.threshold } : manifest.calibration;
    if (isConfident(calibration, scored.top.margin, scored.raw.hits[0]?.similarity ?? -1))
      return this.decision(options, start, { ...scored.base, stage, label: scored.base.modelLabel, decidedBy: "model", lowConfidence: false });
    return this.lowConfidence(query, scored, stage, options, start);
  }

  /** The full stage's scoring with the static stage's scores blended in; neighbours and novelty stay the full stage's. */
  private blended(full: Scored, fast: Scored, weight: number): Scored {
    const { labels } = this.model.manifest;
    const mixed = blendScores(full.combined, fast.combined, weight);
    const top = decide(mixed);
    const scores = Object.fromEntries(labels.map((l, i) => [l, mixed[i]]));
    return { top, raw: full.raw, combined: mixed, base: { ...full.base, modelLabel: labels[top.best], confidence: top.confidence, margin: top.margin, scores } };
  }

  /** Below the margin or novel: the LLM classifier when configured, else escalate / abstain. */
  private async lowConfidence(query: string, scored: Scored, stage: Stage, options: ClassifyOptions, start: number): Promise<Decision> {
    const { manifest, examples } = this.model;
    const { top, raw } = scored;
    const modelLabel = scored.base.modelLabel;
    const base = { ...scored.base, stage };
    const policy = this.options.lowConfidence ?? manifest.config.policy.lowConfidence;
    const byPolicy = this.policyLabel(top.best, top.second);
    if (policy !== "fallback" || !this.options.fallback)
      return this.decision(options, start, { ...base, label: byPolicy.label, decidedBy: byPolicy.decidedBy, lowConfidence: true });

    const answer = await this.askFallback(
      query,
      modelLabel,
      raw.hits.slice(0, NEIGHBOURS_FOR_FALLBACK).map((h) => examples[h.id]),
    );
    const fallback = { label: answer.label, latencyMs: answer.latencyMs, ...(answer.error ? { error: answer.error } : {}) };
    if (answer.label !== null && manifest.labels.includes(answer.label))
      return this.decision(options, start, { ...base, label: answer.label, decidedBy: "fallback", lowConfidence: true, fallback });
    return this.decision(options, start, { ...base, label: byPolicy.label, decidedBy: "fallback-failed", lowConfidence: true, fallback });
  }

  /** Low margin without an LLM answer: escalate (the costlier of the top two tiers) or abstain (the default route). */
  private policyLabel(best: number, second: number): { label: string; decidedBy: DecidedBy } {
    const { labels, ordered, config } = this.model.manifest;
    const abstain = config.policy.abstainLabel;
    if ((this.options.lowConfidence ?? config.policy.lowConfidence) === "abstain" && abstain !== undefined) return { label: abstain, decidedBy: "abstain" };
    const pick = ordered && second >= 0 ? Math.max(best, second) : best;
    return { label: labels[pick], decidedBy: "escalate" };
  }

  private async askFallback(text: string, localLabel: string, examples: { text: string; label: string }[]) {
    const labels = this.model.manifest.config.labels.map((l) => ({ name: l.name, description: l.description }));
    try {
      return await this.options.fallback!.classify({ text, labels, examples, localLabel });
    } catch (err) {
      // The fallback contract is to never throw; guard anyway so a bad plug-in cannot fail the request.
      return { label: null, latencyMs: 0, error: (err as Error).message };
    }
  }

  private decision(options: ClassifyOptions, start: number, d: Omit<Decision, "requestId" | "latencyMs" | "modelVersion">): Decision {
    return { requestId: options.requestId ?? randomUUID(), ...d, latencyMs: performance.now() - start, modelVersion: this.version };
  }

  private finish(decision: Decision, text: string, options: ClassifyOptions): Decision {
    this.options.sink?.log(decision, text, options.tags);
    options.sink?.log(decision, text, options.tags);
    return decision;
  }
}
