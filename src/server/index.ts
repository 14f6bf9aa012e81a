export { createServer, type CreateServerOptions, type TriageServer } from "./server.js";
export { Proxy, type ProxyOptions, type ProxyResult, type AnswerMeta, type CallContext, type Escalation, type RouteAnswer } from "./proxy.js";
export { forward, type ForwardOptions, type ForwardResult, type AttemptRecord, type AttemptOutcome } from "./forward.js";
export { ProviderPool, RetryBudget, type Provider } from "./providers.js";
export {
  serverConfigSchema,
  providerConfigSchema,
  parseServerConfig,
  loadServerConfig,
  resolveProviders,
  DEFAULT_UNCERTAIN_PHRASES,
  type ServerConfig,
  type ServerConfigInput,
  type ProviderConfig,
  type ResolvedProvider,
} from "./config.js";
export { checkGates, type Validator, type ValidatorInput, type GateVerdict, type GateName } from "./gates.js";
export { ApiError, type OpenAIErrorBody } from "./errors.js";
export { ServerMetrics } from "./metrics.js";
export { ServerStats, type ServerStatsSnapshot } from "./stats.js";
export { ModelReloader, type ReloadResult } from "./reload.js";
