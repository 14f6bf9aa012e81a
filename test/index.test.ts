/**
 * @module
 * The library's public surface (src/index.ts): exactly the values the README's Library API and decision
 * log sections document. The store's and fallback's internals (config schemas, retention timers, flag
 * merging, formatting) stay reachable by path only, so they can change without breaking users.
 */
import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";

describe("src/index.ts", () => {
  it("exports the public API and nothing else", () => {
    expect(Object.keys(api).sort()).toEqual([
      "CachedEncoder",
      "CircuitBreaker",
      "DecisionLog",
      "LlmClassifier",
      "NOT_COMMITTED",
      "OnnxEncoder",
      "OutcomeRouter",
      "PgDecisionLog",
      "Router",
      "StaticEncoder",
      "TriageError",
      "UseEncoder",
      "encoderForArtifact",
      "evaluate",
      "fallbackConfigFromEnv",
      "loadExamples",
      "loadRoutesConfig",
      "openDecisionLog",
      "openRouter",
      "parseFallbackConfig",
      "pullModel",
      "readManifest",
      "resolveEncoder",
      "runBench",
      "train",
    ]);
  });
});
