export { LlmClassifier, type FallbackRequest, type FallbackResult } from "./classifier.js";
export {
  fallbackConfigFromEnv,
  fallbackConfigSchema,
  parseFallbackConfig,
  type FallbackConfig,
  type FallbackConfigInput,
} from "./config.js";
export { CircuitBreaker, type BreakerState } from "../common/breaker.js";
export type { FallbackStats, FallbackFailureKind } from "./stats.js";
export type { LabelChoice, LabelledExample } from "./prompt.js";
