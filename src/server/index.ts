/**
 * @module `triage serve` (server/): createServer wires the router, the decision log, metrics and the reload watcher
 * into the hono app. proxy/ routes, forwards and accounts for chat requests without HTTP; http/ is the hono
 * app (auth, limits, body parsing, headers).
 */
export { createServer, type CreateServerOptions, type TriageServer } from "./server.js";
export { ChatProxy, type ProxyOptions, type ProxyResult, type AnswerMeta, type CallContext, type Escalation, type RouteAnswer } from "./proxy/proxy.js";
export { forward, type ForwardOptions, type ForwardResult, type AttemptRecord, type AttemptOutcome } from "./proxy/forward.js";
export { ProviderPool, RetryBudget, type Provider } from "./proxy/providers.js";
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
export { checkGates, type Validator, type ValidatorInput, type GateVerdict, type GateName } from "./proxy/gates.js";
export { ApiError, type OpenAIErrorBody } from "./errors.js";
export { ServerMetrics } from "./metrics.js";
export { ServerStats, type ServerStatsSnapshot } from "./proxy/stats.js";
export { ModelReloader, type ReloadResult } from "./reload.js";
