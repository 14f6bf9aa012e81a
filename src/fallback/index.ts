/**
 * @module The LLM fallback (fallback/): `LlmClassifier`, asked below the margin when the policy is `fallback`,
 * through any OpenAI-compatible endpoint: the prompt with label descriptions and nearest examples, a JSON-
 * schema answer, timeouts, bounded retries and a circuit breaker, and its failure stats. It implements
 * router/'s FallbackClassifier port.
 */
export { LlmClassifier, type FallbackRequest, type FallbackResult, type LlmClassifierOptions } from "./classifier.js";
export {
  fallbackConfigFromEnv,
  fallbackConfigSchema,
  parseFallbackConfig,
  type FallbackConfig,
  type FallbackConfigInput,
} from "./config.js";
export { CircuitBreaker, type BreakerChange, type BreakerListener, type BreakerState } from "../common/breaker.js";
export type { FallbackStats, FallbackFailureKind } from "./stats.js";
export type { LabelChoice, LabelledExample } from "./prompt.js";
