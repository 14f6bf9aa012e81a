/**
 * @module OutcomeRouter: routes queries with an outcome model artifact (`triage train --outcomes`).
 * The same surface as the tier Router (classify, classifyBatch, reload, close, labels, version), so
 * `route`, `serve` and the proxy take either; a decision's label is the model to call.
 */
import { randomUUID } from "node:crypto";
import { TriageError } from "../common/errors.js";
import { assertSameEncoder, encoderForArtifact } from "../encoders/resolve.js";
import type { Encoder } from "../encoders/types.js";
import { modelStamp, watchReloads, type ModelWatcher, type WatchOptions } from "../model/watch.js";
import type { DecisionSink } from "../router/hooks.js";
import { LruCache } from "../router/lru.js";
import type { BatchClassifyOptions, ClassifyOptions, Decision, Dial, Stage } from "../router/types.js";
import { loadOutcomeModel, type LoadedOutcomeModel, type OutcomeManifest } from "./artifact.js";
import { settingFor } from "./dial.js";
import { explainChoice } from "./explain.js";
import { lastQuestion } from "./prompt.js";
import { choose } from "./sweep.js";

export interface OutcomeRouterOptions extends WatchOptions {
  /** Encoder to use; must match the artifact's. Default: the artifact's own. A given encoder stays the caller's to close. */
  encoder?: Encoder;
  /** Receives every decision (e.g. a DecisionLog). */
  sink?: DecisionSink;
  /** The deployment's dial setting; a request's own wins. Default: the one recorded at training (quality 0.95 unless set). */
  dial?: Dial;
  /** Queries longer than this are cut before embedding (default 4,000 characters). */
  maxChars?: number;
  threads?: number;
  /** Embeddings kept for exact repeats; 0 disables (default 10,000). */
  cacheSize?: number;
  onWarning?: (message: string) => void;
}

const DEFAULT_MAX_CHARS = 4000;
const DEFAULT_CACHE_SIZE = 10_000;

export class OutcomeRouter {
  /** What the artifact routes between (the tier Router's is "tiers"). */
  readonly kind = "outcomes";
  private readonly embeddings: LruCache<Float32Array>;
  private watcher: ModelWatcher | undefined;

  private constructor(
    private model: LoadedOutcomeModel,
    readonly encoder: Encoder,
    private readonly options: OutcomeRouterOptions,
  ) {
    this.embeddings = new LruCache(options.cacheSize ?? DEFAULT_CACHE_SIZE);
  }

  static async load(dir: string, options: OutcomeRouterOptions = {}): Promise<OutcomeRouter> {
    const stamp = options.watch ? modelStamp(dir) : null;
    const model = await loadOutcomeModel(dir, { onWarning: options.onWarning });
    let encoder = options.encoder;
    if (encoder) assertSameEncoder(model.manifest.encoder, encoder);
    else encoder = await encoderForArtifact(model.manifest.encoder, { threads: options.threads });
    const router = new OutcomeRouter(model, encoder, options);
    router.watcher = watchReloads(router, stamp, options);
    return router;
  }

  get manifest(): OutcomeManifest {
    return this.model.manifest;
  }

  /** The models, cheapest first. */
  get labels(): readonly string[] {
    return this.model.manifest.labels;
  }

  get version(): string {
    return this.model.manifest.version;
  }

  get dir(): string {
    return this.model.dir;
  }

  /** The dial setting a request gets when it sets none. */
  get defaultDial(): Dial {
    return this.options.dial ?? this.model.manifest.outcomes.dial.default;
  }

  /** The choice rule's setting a dial setting stands for (see dial.ts). */
  settingFor(dial: Dial): number {
    return settingFor(this.model.manifest.outcomes.dial.calibration, dial);
  }

  async classify(text: string, options: ClassifyOptions = {}): Promise<Decision> {
    const start = performance.now();
    const query = this.prepare(text);
    let vector = this.embeddings.get(query);
    const stage: Stage = vector ? "cache" : "full";
    if (!vector) {
      [vector] = await this.encoder.embed([query]);
      this.embeddings.set(query, vector);
    }
    return this.finish(this.decide(query, vector, options, start, stage), text, options);
  }

  /**
   * Classifies many queries; those not cached share one embedding call. As Router.classifyBatch:
   * `requestIds` gives each query its own id and `queryTags` its own tags (over the shared `tags`).
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
    const vectors = queries.map((q) => this.embeddings.get(q));
    const missing = [...new Set(queries.filter((_, i) => !vectors[i]))];
    const fresh = new Map<string, Float32Array>();
    if (missing.length > 0) (await this.encoder.embed(missing)).forEach((v, i) => fresh.set(missing[i], v));
    for (const [q, v] of fresh) this.embeddings.set(q, v);
    return queries.map((q, i) => {
      const cached = vectors[i];
      return this.finish(this.decide(q, cached ?? fresh.get(q)!, each[i], start, cached ? "cache" : "full"), texts[i], each[i]);
    });
  }

  /** Swaps in another artifact (same encoder) without dropping in-flight requests. */
  async reload(dir: string = this.model.dir): Promise<void> {
    const next = await loadOutcomeModel(dir, { onWarning: this.options.onWarning });
    assertSameEncoder(next.manifest.encoder, this.encoder);
    this.model = next;
  }

  async close(): Promise<void> {
    this.watcher?.stop();
    if (!this.options.encoder) await this.encoder.close?.();
  }

  private prepare(text: string): string {
    if (typeof text !== "string") throw new TriageError("query must be a string", "E_INPUT");
    if (text.trim() === "") throw new TriageError("query is empty", "E_INPUT");
    // Cut as the training prompts were cut, so the same text embeds the same.
    const query = this.model.manifest.outcomes.lastQuestionOnly ? lastQuestion(text) : text;
    const max = this.options.maxChars ?? DEFAULT_MAX_CHARS;
    return query.length > max ? query.slice(0, max) : query;
  }

  private decide(query: string, vector: Float32Array, options: ClassifyOptions, start: number, stage: Stage): Decision {
    const { manifest, predictor } = this.model;
    const o = manifest.outcomes;
    const dial = options.dial ?? options.defaultDial ?? this.defaultDial;
    const rule = o.dial.calibration.rule;
    const setting = this.settingFor(dial);
    const pred = predictor.predict(vector, query);
    const chosen = choose(rule, pred, predictor.byCost, predictor.relativeCost, setting);
    const outcome = explainChoice({ models: o.models, byCost: o.byCost, meanCost: o.meanCost, prices: o.prices }, pred, chosen, query, {
      ...dial,
      rule,
      setting,
      from: options.dial ? "request" : "default",
    });
    const sorted = [...pred].sort((a, b) => b - a);
    const model = o.models[chosen];
    return {
      requestId: options.requestId ?? randomUUID(),
      label: model,
      model,
      confidence: pred[chosen],
      margin: sorted.length > 1 ? sorted[0] - sorted[1] : 1,
      scores: Object.fromEntries(o.models.map((m, i) => [m, pred[i]])),
      modelLabel: model,
      neighbours: [],
      decidedBy: "model",
      lowConfidence: false,
      stage,
      latencyMs: performance.now() - start,
      modelVersion: manifest.version,
      outcome,
    };
  }

  private finish(decision: Decision, text: string, options: ClassifyOptions): Decision {
    this.options.sink?.log(decision, text, options.tags);
    options.sink?.log(decision, text, options.tags);
    return decision;
  }
}
