/**
 * @module The proxy without HTTP (server/proxy/): route a chat request, forward it to the tier's providers with
 * failover, check the answer's quality gates, escalate, account for cost and usage. The HTTP layer
 * (server/http/) only parses and serialises.
 */
import { randomUUID } from "node:crypto";
import type { AnyRouter } from "../../outcomes/open.js";
import type { Decision, Dial } from "../../router/types.js";
import type { DecisionStore, FeedbackInput } from "../../store/index.js";
import type { ServerConfig } from "../config.js";
import { callCostUsd } from "../../config/price.js";
import { readUsage, type Usage } from "./usage.js";
import { ApiError } from "../errors.js";
import { forward, type AttemptRecord, type ForwardResult } from "./forward.js";
import { checkGates, type GateName, type Validator } from "./gates.js";
import type { ServerMetrics } from "../metrics.js";
import type { ProviderPool } from "./providers.js";
import { chatRequestSchema, routeRequestSchema, routingText, validate, type ChatRequest } from "./request.js";
import { passThroughSse, type StreamEnd } from "./sse.js";
import { ServerStats, type CallRecord } from "./stats.js";
import { ClassifyBatcher } from "./batcher.js";
import { LogSink } from "./log-sink.js";
import { ConversationMemory, conversationOf, LocalConversations, stickyLabel, type ConversationRef, type ConversationStore } from "./conversations.js";
import { clampToGroup, escalationPath, mostExpensiveTier, tierTable, type Tier } from "./tiers.js";
import { callerWantsUsage, upstreamBody } from "./upstream-body.js";

export interface ProxyOptions {
  /** A tier Router or an OutcomeRouter (whose decisions name the model to call). */
  router: AnyRouter;
  config: ServerConfig;
  providers: ProviderPool;
  /** Decisions (through the router's sink port, see log-sink.ts) and their feedback (outcome, escalated) are written here. */
  log?: DecisionStore;
  metrics?: ServerMetrics;
  /** Extra quality gate run on every non-final tier's non-streamed answer. */
  validator?: Validator;
  /** Where logging failures go (never thrown at callers). Default: a process warning. */
  onError?: (error: Error) => void;
  /** Where conversations' models are kept (a cluster worker: the primary's). Default: this process's memory. */
  conversations?: ConversationStore;
}

export interface CallContext {
  requestId?: string;
  tags?: Record<string, string>;
  /** Aborts upstream calls (the caller left). */
  signal?: AbortSignal;
  /** Outcome models: this request's dial (x-triage-quality / x-triage-max-cost); default the config's, else the model's. */
  dial?: Dial;
  /** The caller's x-triage-conversation header: which conversation a chat request continues. */
  conversation?: string;
}

export interface Escalation {
  from: string;
  to: string;
  gate: GateName;
  reason: string;
}

export interface AnswerMeta {
  requestId: string;
  /** "passthrough" when the request named a model directly. */
  tier: string;
  model: string;
  provider?: string;
  decision?: Decision;
  escalations: Escalation[];
  attempts: AttemptRecord[];
  /** Set when the parallel pattern answered: the pair called, how alike their answers were, and whether they agreed. */
  parallel?: ParallelOutcome;
}

export type ProxyResult =
  | { kind: "json"; body: Record<string, unknown>; meta: AnswerMeta }
  | { kind: "stream"; body: ReadableStream<Uint8Array>; meta: AnswerMeta; ended: Promise<StreamEnd> };

/** /v1/route's answer: the library decision plus the model its tier maps to. */
export type RouteAnswer = Omit<Decision, "model"> & { model: string | null };

type ModelMode = { kind: "route"; group?: string[] } | { kind: "passthrough" };

export class ChatProxy {
  readonly stats: ServerStats;
  private readonly onError: (error: Error) => void;
  private readonly batcher: ClassifyBatcher;
  /** The server config's dial for requests that set none; logged as the default, not as the request's. */
  private readonly defaultDial: Dial | undefined;
  private readonly sink: LogSink | undefined;
  /** Which model each live conversation is on (chat requests). */
  readonly conversations: ConversationStore;
  /** Streams still open, each with a way to end it and its accounting (the outcome row) to wait for. */
  private readonly openStreams = new Set<{ end: (message: string) => void; accounted: Promise<unknown> }>();

  constructor(private readonly options: ProxyOptions) {
    this.onError = options.onError ?? ((e) => process.emitWarning(e.message, "TriageServer"));
    this.stats = new ServerStats(mostExpensiveTier(this.tiers()));
    this.sink = options.log ? new LogSink(options.log, this.onError) : undefined;
    this.defaultDial = configDial(options.config);
    this.batcher = new ClassifyBatcher(options.router, this.sink, this.defaultDial);
    this.conversations = options.conversations ?? new LocalConversations(new ConversationMemory(options.config.conversations.ttlMs, options.config.conversations.maxConversations));
  }

  get router(): AnyRouter {
    return this.options.router;
  }

  /** Ends every open stream with an error event (server shutdown); each still records its outcome. */
  endStreams(message: string): void {
    for (const s of this.openStreams) s.end(message);
  }

  /** Resolves once every stream that has ended has recorded its outcome (the log can then be closed). */
  async streamsSettled(): Promise<void> {
    await Promise.all([...this.openStreams].map((s) => s.accounted));
  }

  /** Classification only. */
  async route(input: unknown, context: CallContext = {}): Promise<RouteAnswer> {
    const req = validate(routeRequestSchema, input);
    const { config } = this.options;
    const text = req.text ?? routingText(req.messages!, config.routing.contextMessages, config.routing.contextMaxChars);
    const tags = req.tags || context.tags ? { ...context.tags, ...req.tags } : undefined;
    const decision = await this.classify(text, context.requestId ?? randomUUID(), tags, req.topK, context.dial);
    return { ...decision, model: this.tiers().get(decision.label)?.model ?? null };
  }

  async complete(input: unknown, context: CallContext = {}): Promise<ProxyResult> {
    const req = validate(chatRequestSchema, input);
    const { config, providers } = this.options;
    const requestId = context.requestId ?? randomUUID();
    if (providers.size === 0)
      throw new ApiError(
        503,
        "no upstream providers are configured, so chat completions cannot be forwarded; add `providers` to the server config (or set TRIAGE_PROVIDER_BASE_URL). /v1/route works without providers.",
        "server_error",
        null,
        "no_providers",
      );
    const mode = this.modelMode(req.model);
    const started = performance.now();
    const stream = req.stream === true;
    const deadline = new Deadline(config.requestTimeoutMs, context.signal);
    try {
      if (mode.kind === "passthrough") return await this.passthrough(req, requestId, deadline, context.tags, started);

      const text = routingText(req.messages, config.routing.contextMessages, config.routing.contextMaxChars);
      const conv = config.conversations.enabled ? conversationOf(context.conversation, req.messages) : undefined;
      const remembered = conv?.continuing ? await this.conversations.get(conv.id) : undefined;
      const decision = await this.classify(text, requestId, context.tags, undefined, context.dial, conv && ((d) => this.keepConversation(d, conv, remembered)));
      const tiers = this.tiers();
      // An outcome model escalates to the models it predicts better for this prompt, nearest first.
      const path = decision.outcome ? [decision.label, ...decision.outcome.escalation] : escalationPath(this.router, config, mode.group);
      let tierName = clampToGroup(decision.label, mode.group, this.router.labels, this.router.manifest.ordered !== false);
      const calls: CallRecord[] = [];
      const escalations: Escalation[] = [];
      const attempts: AttemptRecord[] = [];
      let kept: { body: Record<string, unknown>; meta: AnswerMeta } | undefined;
      const pair = config.parallel.enabled && !stream ? config.parallel.pair : undefined;
      if (pair?.includes(tierName)) {
        const answer = await this.parallel(pair, req, { requestId, decision, tags: context.tags, signal: deadline.signal, attempts, calls });
        await this.remember(conv, answer.meta.tier, remembered);
        return this.finishJson(answer, calls, started, context.tags, decision);
      }

      for (let hop = 0; ; hop++) {
        const tier = this.requireModel(tiers.get(tierName), tierName);
        const result = await this.forwardTier(tier, upstreamBody(req, tier, config.systemPrompt), stream, deadline.signal);
        attempts.push(...result.attempts);
        const meta: AnswerMeta = { requestId, tier: tier.name, model: tier.model, decision, escalations, attempts };
        if (result.kind === "error") {
          // The escalation itself failed: the earlier (gate-failing) answer beats an error.
          if (kept) {
            await this.remember(conv, kept.meta.tier, remembered);
            return this.finishJson(kept, calls, started, context.tags, decision);
          }
          this.recordRequest(tier.name, started, escalations, attempts, decision, calls);
          this.logFailure(requestId, result.error, attempts);
          throw result.error;
        }
        meta.provider = result.provider;
        if (result.kind === "stream") {
          deadline.clear(); // a started stream runs as long as it runs; the caller can cancel it
          await this.remember(conv, tier.name, remembered);
          return this.streamed(result.body, req, meta, tier, context.tags, started, decision);
        }
        const call = this.recordCall(requestId, tier, result.provider, readUsage(result.body.usage), context.tags);
        calls.push(call);
        const next = path[path.indexOf(tier.name) + 1];
        if (hop < config.escalation.maxHops && next !== undefined && path.includes(tier.name)) {
          const verdict = await checkGates(config.gates, { tier: tier.name, model: tier.model, request: req, response: result.body }, this.options.validator);
          // A gate's verdict is an outcome of the model that answered: outcome models retrain on it.
          if (config.gates.enabled || this.options.validator)
            this.feedback(requestId, {
              kind: "score",
              score: verdict.pass ? 1 : 0,
              finalModel: tier.model,
              note: verdict.pass ? `gates passed (tier=${tier.name})` : `gate ${verdict.gate} failed (tier=${tier.name}): ${verdict.reason ?? ""}`,
            });
          if (!verdict.pass) {
            const esc: Escalation = { from: tier.name, to: next, gate: verdict.gate!, reason: verdict.reason ?? "" };
            escalations.push(esc);
            this.options.metrics?.escalations.inc({ from: esc.from, to: esc.to, gate: esc.gate });
            this.feedback(requestId, { kind: "escalated", finalModel: tiers.get(next)?.model, note: `${esc.from} -> ${esc.to}: ${esc.gate}: ${esc.reason}` });
            kept = { body: result.body, meta };
            tierName = next;
            continue;
          }
        }
        await this.remember(conv, tier.name, remembered);
        return this.finishJson({ body: result.body, meta }, calls, started, context.tags, decision);
      }
    } finally {
      if (!stream) deadline.clear();
    }
  }

  /**
   * The parallel pattern: both tiers of the pair at once; the cheaper answer when the answers' embeddings
   * agree, else the stronger one. Both calls are counted; each call's cost row notes the outcome.
   */
  private async parallel(
    pair: readonly [string, string],
    req: ChatRequest,
    ctx: { requestId: string; decision: Decision; tags?: Record<string, string>; signal: AbortSignal; attempts: AttemptRecord[]; calls: CallRecord[] },
  ): Promise<{ body: Record<string, unknown>; meta: AnswerMeta }> {
    const { config } = this.options;
    const tiers = this.tiers();
    const labels = this.router.labels;
    const [cheap, strong] = [...pair].sort((a, b) => labels.indexOf(a) - labels.indexOf(b)).map((name) => this.requireModel(tiers.get(name), name));
    const results = await Promise.all([cheap, strong].map((t) => this.forwardTier(t, upstreamBody(req, t, config.systemPrompt), false, ctx.signal)));
    for (const r of results) ctx.attempts.push(...r.attempts);
    const [a, b] = results;
    if (a.kind === "error" && b.kind === "error") {
      this.logFailure(ctx.requestId, b.error, ctx.attempts);
      throw b.error;
    }
    let outcome: ParallelOutcome = { pair: [cheap.name, strong.name], similarity: null, agreed: null };
    if (a.kind === "json" && b.kind === "json") {
      const similarity = await answerSimilarity(this.router.encoder, a.body, b.body);
      outcome = { ...outcome, similarity, agreed: similarity !== null && similarity >= config.parallel.threshold };
    }
    const note = `parallel ${outcome.agreed === null ? "one answer" : outcome.agreed ? "agree" : "disagree"}${outcome.similarity === null ? "" : ` ${outcome.similarity.toFixed(3)}`}`;
    [cheap, strong].forEach((t, i) => {
      const r = results[i];
      if (r.kind === "json") ctx.calls.push(this.recordCall(ctx.requestId, t, r.provider, readUsage(r.body.usage), ctx.tags, note));
    });
    const pick = a.kind === "json" && (b.kind !== "json" || outcome.agreed === true) ? 0 : 1;
    const chosen = results[pick] as Extract<ForwardResult, { kind: "json" }>;
    const tier = [cheap, strong][pick];
    return {
      body: chosen.body,
      meta: {
        requestId: ctx.requestId,
        tier: tier.name,
        model: tier.model,
        provider: chosen.provider,
        decision: ctx.decision,
        escalations: [],
        attempts: ctx.attempts,
        parallel: outcome,
      },
    };
  }

  /** The tiers as configured now (after any reload). */
  tiers(): Map<string, Tier> {
    return tierTable(this.router, this.options.config, this.options.providers.names);
  }

  private modelMode(model: string): ModelMode {
    const { models } = this.options.config;
    if (models.auto.includes(model)) return { kind: "route" };
    const group = models.groups[model];
    if (group) {
      const known = group.filter((t) => this.router.labels.includes(t));
      if (known.length === 0) throw new ApiError(500, `route group "${model}" names no tier of the current model (${group.join(", ")})`, "server_error");
      return { kind: "route", group: known };
    }
    if (models.passthrough) return { kind: "passthrough" };
    const names = [...models.auto, ...Object.keys(models.groups)].join(", ");
    throw new ApiError(404, `model "${model}" is not served here; use one of: ${names}`, "invalid_request_error", "model", "model_not_found");
  }

  /**
   * A later turn keeps the conversation's model (conversations.ts); the decision records the conversation,
   * whether its label was kept, and what routing alone would have chosen.
   */
  private keepConversation(d: Decision, conv: ConversationRef, remembered: string | undefined): Decision {
    const labels = this.router.labels;
    const { label, sticky } = stickyLabel(d.label, remembered, (l) => labels.indexOf(l), this.options.config.conversations);
    const conversation = { id: conv.id, sticky, routed: d.label };
    if (label === d.label) return { ...d, conversation };
    // An outcome model's escalation starts from the kept model: the models predicted better than it.
    const outcome = d.outcome && {
      ...d.outcome,
      escalation: labels.filter((m) => d.scores[m] > d.scores[label]).sort((a, b) => d.scores[a] - d.scores[b] || labels.indexOf(a) - labels.indexOf(b)),
    };
    return { ...d, label, ...(d.model !== undefined ? { model: label } : {}), ...(outcome ? { outcome } : {}), conversation };
  }

  /**
   * The model a conversation answered with becomes its model (never a cheaper one than it had, unless
   * configured: the store keeps a dearer one it holds). A new or changed model is stored before the answer
   * leaves, so the next turn sees it; the model the turn found (`remembered`) only has its time renewed,
   * and the answer does not wait for that (in a cluster, a round trip to the primary).
   */
  private async remember(conv: ConversationRef | undefined, tier: string, remembered: string | undefined): Promise<void> {
    if (!conv) return;
    const labels = this.router.labels;
    const dearer = this.options.config.conversations.down ? [] : labels.slice(labels.indexOf(tier) + 1);
    const stored = this.conversations.set(conv.id, tier, dearer);
    if (tier !== remembered) await stored;
    else stored.catch((err: Error) => this.options.onError?.(err)); // stores never reject; an unwatched one must not crash the server
  }

  private async classify(text: string, requestId: string, tags?: Record<string, string>, topK?: number, dial?: Dial, adjust?: (d: Decision) => Decision): Promise<Decision> {
    let decision: Decision;
    if (adjust) this.sink?.change(requestId, adjust);
    try {
      decision =
        topK !== undefined
          ? await this.router.classify(text, { requestId, topK, tags, sink: this.sink, ...(dial ? { dial } : {}), ...(this.defaultDial ? { defaultDial: this.defaultDial } : {}) })
          : await this.batcher.classify(text, requestId, tags, dial);
    } catch (err) {
      this.sink?.settle(requestId);
      throw new ApiError(400, `cannot route this request: ${(err as Error).message}`, "invalid_request_error", null, "routing_failed");
    }
    // The logged row already holds the adjusted decision (see log-sink.ts); without a log, adjust it here.
    if (adjust) decision = this.sink?.settle(requestId) ?? adjust(decision);
    const m = this.options.metrics;
    m?.decisions.inc({ label: decision.label, decided_by: decision.decidedBy });
    m?.decisionSeconds.observe(decision.latencyMs / 1000);
    if (decision.fallback) m?.fallbacks.inc({ result: decision.decidedBy === "fallback" ? "answered" : "failed" });
    // Strict durability promises no answer leaves without its logged decision.
    if (await this.sink?.notCommitted(decision)) throw new ApiError(503, "the decision log could not record this request; try again", "server_error", null, "log_unavailable");
    return decision;
  }

  private requireModel(tier: Tier | undefined, name: string): Tier & { model: string } {
    if (!tier) throw new ApiError(500, `tier "${name}" is not in the current model's tiers config`, "server_error");
    if (!tier.model) throw new ApiError(500, `tier "${name}" has no model configured (tiers config \`model\`, or server config tiers.${name}.model)`, "server_error");
    return tier as Tier & { model: string };
  }

  private async forwardTier(tier: Tier, body: Record<string, unknown>, stream: boolean, signal: AbortSignal): Promise<ForwardResult> {
    const { providers, config, metrics } = this.options;
    providers.budget.onRequest();
    const result = await forward(providers, tier.providers, body, { stream, signal, maxAttempts: config.retry.maxAttempts });
    for (const a of result.attempts) {
      if (a.outcome === "ok") metrics?.upstreamSeconds.observe({ tier: tier.name, provider: a.provider }, a.ms / 1000);
      else metrics?.failovers.inc({ provider: a.provider, outcome: a.outcome });
    }
    return result;
  }

  private async passthrough(req: ChatRequest, requestId: string, deadline: Deadline, tags: Record<string, string> | undefined, started: number): Promise<ProxyResult> {
    const names = this.options.config.models.passthroughProviders ?? this.options.providers.names;
    const tier: Tier & { model: string } = { name: "passthrough", model: req.model, providers: names };
    const body = upstreamBody(req, tier, "off");
    const result = await this.forwardTier(tier, body, req.stream === true, deadline.signal);
    const meta: AnswerMeta = { requestId, tier: "passthrough", model: req.model, escalations: [], attempts: result.attempts };
    if (result.kind === "error") {
      this.logFailure(requestId, result.error, result.attempts);
      throw result.error;
    }
    meta.provider = result.provider;
    if (result.kind === "stream") {
      deadline.clear();
      return this.streamed(result.body, req, meta, tier, tags, started, undefined);
    }
    // Pass-through requests have no decision row, so their cost is counted in memory only.
    const usage = readUsage(result.body.usage);
    const call: CallRecord = { tier: "passthrough", model: req.model, tags, ...usage, costUsd: callCostUsd(usage, undefined) };
    this.stats.recordCall(call);
    this.recordRequest("passthrough", started, [], result.attempts, undefined, [call]);
    return { kind: "json", body: result.body, meta };
  }

  private streamed(
    upstream: ReadableStream<Uint8Array>,
    req: ChatRequest,
    meta: AnswerMeta,
    tier: Tier & { model: string },
    tags: Record<string, string> | undefined,
    started: number,
    decision: Decision | undefined,
  ): ProxyResult {
    const { body, ended, end } = passThroughSse(upstream, { dropUsageChunk: !callerWantsUsage(req), idleTimeoutMs: this.options.config.streamIdleTimeoutMs });
    const entry = { end, accounted: Promise.resolve() as Promise<unknown> };
    const accounted = ended.then((end) => {
      try {
        // Every routed stream leaves its outcome row, however it ended; the note says how when not "done".
        const note = end.outcome === "done" ? undefined : `stream ${end.outcome}${end.error ? `: ${this.options.providers.scrubKeys(end.error)}` : ""}`;
        const call = decision
          ? this.recordCall(meta.requestId, tier, meta.provider ?? "", end.usage, tags, note)
          : { tier: tier.name, model: tier.model, tags, ...end.usage, costUsd: callCostUsd(end.usage, undefined) };
        if (!decision) this.stats.recordCall(call);
        this.recordRequest(tier.name, started, meta.escalations, meta.attempts, decision, [call]);
      } catch (err) {
        this.onError(err as Error);
      } finally {
        this.openStreams.delete(entry);
      }
      return end;
    });
    entry.accounted = accounted;
    this.openStreams.add(entry);
    return { kind: "stream", body, meta, ended: accounted };
  }

  private finishJson(
    answer: { body: Record<string, unknown>; meta: AnswerMeta },
    calls: CallRecord[],
    started: number,
    _tags: Record<string, string> | undefined,
    decision: Decision,
  ): ProxyResult {
    this.recordRequest(answer.meta.tier, started, answer.meta.escalations, answer.meta.attempts, decision, calls);
    return { kind: "json", body: answer.body, meta: answer.meta };
  }

  /** One upstream call's cost: into the in-memory stats, the metrics and the log (feedback kind "outcome"). */
  private recordCall(requestId: string, tier: Tier & { model: string }, provider: string, usage: Usage | undefined, tags?: Record<string, string>, note?: string): CallRecord {
    const costUsd = callCostUsd(usage, tier.price);
    const call: CallRecord = { tier: tier.name, model: tier.model, tags, tokensIn: usage?.tokensIn, tokensOut: usage?.tokensOut, costUsd };
    this.stats.recordCall(call);
    if (costUsd !== undefined) this.options.metrics?.costUsd.inc({ tier: tier.name, model: tier.model }, costUsd);
    this.feedback(requestId, {
      kind: "outcome",
      finalModel: tier.model,
      ...(usage?.tokensIn !== undefined ? { tokensIn: usage.tokensIn } : {}),
      ...(usage?.tokensOut !== undefined ? { tokensOut: usage.tokensOut } : {}),
      ...(costUsd !== undefined ? { costUsd } : {}),
      note: `tier=${tier.name} provider=${provider}${note ? ` ${note}` : ""}`,
    });
    return call;
  }

  private recordRequest(tier: string, started: number, escalations: Escalation[], attempts: AttemptRecord[], decision: Decision | undefined, calls: CallRecord[]): void {
    this.stats.recordRequest(
      {
        tier,
        latencyMs: performance.now() - started,
        escalated: escalations.length > 0,
        failover: attempts.some((a) => a.outcome !== "ok"),
        classifierFallback: decision?.fallback !== undefined,
      },
      calls,
    );
  }

  /** A request the caller gets an upstream error for: the details the caller does not see (addresses) go to the server log. */
  private logFailure(requestId: string, error: ApiError, attempts: readonly AttemptRecord[]): void {
    const details = attempts.filter((a) => a.detail !== undefined).map((a) => `${a.provider}: ${a.detail}`);
    if (error.status < 500 || details.length === 0) return;
    this.onError(new Error(`request ${requestId} failed with ${error.status} (${error.message}); ${details.join("; ")}`));
  }

  /** Queued behind the request's decision (the log's batch writes both); strict logs commit it as they commit decisions. */
  private feedback(requestId: string, input: FeedbackInput): void {
    const log = this.options.log;
    if (!log) return;
    try {
      const stored = log.queueFeedback(requestId, input);
      if (stored instanceof Promise) stored.catch((err: Error) => this.onError(err));
    } catch (err) {
      // Cost accounting must never fail the answer the caller is waiting for.
      this.onError(err as Error);
    }
  }
}

export interface ParallelOutcome {
  /** Cheaper tier first. */
  pair: [string, string];
  /** Cosine similarity of the two answers' embeddings; null when one call failed or an answer had no text. */
  similarity: number | null;
  agreed: boolean | null;
}

/** Cosine similarity of two chat answers' texts under the router's encoder (unit vectors: their dot product). */
async function answerSimilarity(
  encoder: { embed(texts: readonly string[]): Promise<Float32Array[]> },
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Promise<number | null> {
  const text = (body: Record<string, unknown>) => {
    const content = (body.choices as { message?: { content?: unknown } }[] | undefined)?.[0]?.message?.content;
    return typeof content === "string" && content.trim() !== "" ? content : null;
  };
  const ta = text(a);
  const tb = text(b);
  if (ta === null || tb === null) return null;
  const [va, vb] = await encoder.embed([ta, tb]);
  let dot = 0;
  for (let i = 0; i < va.length; i++) dot += va[i] * vb[i];
  return dot;
}

/** A request deadline that can be lifted once a stream has started. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly signal: AbortSignal;

  constructor(ms: number, parent?: AbortSignal) {
    this.timer = setTimeout(() => this.controller.abort(new Error(`request deadline of ${ms} ms passed`)), ms);
    this.signal = this.controller.signal;
    // A listener rather than AbortSignal.any, which costs more per request (profiled) and lives as long as both signals.
    if (parent?.aborted) this.controller.abort(parent.reason);
    else parent?.addEventListener("abort", () => this.controller.abort(parent.reason), { once: true });
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** The server config's default dial (routing.quality / routing.maxCost), if any. */
function configDial(config: ServerConfig): Dial | undefined {
  const r = config.routing;
  return r.quality !== undefined ? { quality: r.quality } : r.maxCost !== undefined ? { maxCost: r.maxCost } : undefined;
}
