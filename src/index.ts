/**
 * @module triage's library API: the CLI and the server are thin shells over these. Only what is listed
 * here is public; everything else under src/ is internal and reachable by path only (it may change).
 */
export { Router, type RouterOptions } from "./router/router.js";
export type { Decision, DecidedBy, Neighbour, ClassifyOptions, BatchClassifyOptions, LowConfidencePolicy, Stage, Dial, OutcomeChoice } from "./router/types.js";
export { OutcomeRouter, type OutcomeRouterOptions } from "./outcomes/served.js";
export { openRouter, type AnyRouter, type OpenRouterOptions } from "./outcomes/open.js";
export type { OutcomeManifest } from "./outcomes/artifact.js";
export type { FallbackClassifier, DecisionSink } from "./router/hooks.js";
export { train, type TrainOptions, type TrainResult, type TrainProgress } from "./train/train.js";
export type { WordDropout } from "./model/artifact.js";
export type { WatchOptions } from "./model/watch.js";
export { loadExamples, type Example, type LoadedData, type LoadOptions } from "./train/data.js";
export { readManifest, type Manifest } from "./model/artifact.js";
export { resolveEncoder, encoderForArtifact, type ResolveOptions, type ResolvedEncoder } from "./encoders/resolve.js";
export type { Encoder, EncoderRef } from "./encoders/types.js";
export { UseEncoder } from "./encoders/use/encoder.js";
export { OnnxEncoder } from "./encoders/onnx/encoder.js";
export { StaticEncoder } from "./encoders/static.js";
export { CachedEncoder } from "./encoders/cache.js";
export { pullModel } from "./encoders/onnx/pull.js";
export { loadRoutesConfig } from "./config/load.js";
export type { RoutesConfig, LabelConfig, RuleConfig, PolicyConfig } from "./config/schema.js";
export { evaluate, type EvalReport } from "./eval/evaluate.js";
export { runBench, type BenchReport } from "./eval/bench.js";
export { DecisionLog, NOT_COMMITTED, type DecisionLogOptions } from "./store/log.js";
export { PgDecisionLog } from "./store/postgres/log.js";
export { openDecisionLog } from "./store/open.js";
export type { Awaitable, DecisionStore } from "./store/store.js";
export type { TextMode, FeedbackInput, FeedbackKind, FeedbackRecord, LoggedDecision, DecisionFilters, LogStats } from "./store/types.js";
export type { StatsOptions } from "./store/stats.js";
export type { ExportFormat } from "./store/export.js";
export type { Durability, SyncMode } from "./store/durability.js";
export { LlmClassifier, type FallbackRequest, type FallbackResult, type LlmClassifierOptions } from "./fallback/classifier.js";
export { fallbackConfigFromEnv, parseFallbackConfig, type FallbackConfig, type FallbackConfigInput } from "./fallback/config.js";
export { CircuitBreaker, type BreakerChange, type BreakerListener, type BreakerState } from "./common/breaker.js";
export { TriageError } from "./common/errors.js";
