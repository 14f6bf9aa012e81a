import { describe, expect, it } from "vitest";
import { TriageError } from "../../src/common/errors.js";
import { LlmClassifier, fallbackConfigFromEnv, parseFallbackConfig } from "../../src/fallback/index.js";

describe("fallback config", () => {
  it("fills defaults", () => {
    const c = parseFallbackConfig({ baseURL: "http://127.0.0.1:11434/v1", model: "qwen2.5:0.5b" });
    expect(c).toMatchObject({ timeoutMs: 1500, maxRetries: 1, breaker: { failureThreshold: 5, cooldownMs: 30000 }, apiKey: "not-needed" });
    expect(c.price).toBeUndefined();
  });

  it("names the bad field", () => {
    expect(() => parseFallbackConfig({ baseURL: "not a url", model: "m" })).toThrow(/baseURL/);
    expect(() => new LlmClassifier({ baseURL: "http://x/v1", model: "m", timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => parseFallbackConfig({ baseURL: "http://x/v1", model: "m", breaker: { failureThreshold: 0 } })).toThrow(/breaker\.failureThreshold/);
  });

  it("is undefined when the environment names no endpoint", () => {
    expect(fallbackConfigFromEnv({})).toBeUndefined();
    expect(fallbackConfigFromEnv({ TRIAGE_FALLBACK_MODEL: "m", OPENAI_API_KEY: "" })).toBeUndefined();
    expect(LlmClassifier.fromEnv({})).toBeUndefined();
  });

  it("prefers TRIAGE_FALLBACK_* over OPENAI_*", () => {
    const c = fallbackConfigFromEnv({
      TRIAGE_FALLBACK_BASE_URL: "http://127.0.0.1:8000/v1",
      TRIAGE_FALLBACK_API_KEY: "k1",
      TRIAGE_FALLBACK_MODEL: "local-model",
      TRIAGE_FALLBACK_TIMEOUT_MS: "800",
      OPENAI_BASE_URL: "http://elsewhere/v1",
      OPENAI_API_KEY: "k2",
    });
    expect(c).toMatchObject({ baseURL: "http://127.0.0.1:8000/v1", apiKey: "k1", model: "local-model", timeoutMs: 800 });
  });

  it("uses OpenAI itself when only OPENAI_API_KEY is set", () => {
    expect(fallbackConfigFromEnv({ OPENAI_API_KEY: "sk-x" })).toMatchObject({
      baseURL: "https://api.openai.com/v1",
      apiKey: "sk-x",
      model: "gpt-4o-mini",
    });
  });

  it("asks for a model name when a custom endpoint has none, and rejects a bad timeout", () => {
    expect(() => fallbackConfigFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" })).toThrow(TriageError);
    expect(() => fallbackConfigFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" })).toThrow(/TRIAGE_FALLBACK_MODEL/);
    expect(() => fallbackConfigFromEnv({ OPENAI_API_KEY: "k", TRIAGE_FALLBACK_TIMEOUT_MS: "1.5s" })).toThrow(/TRIAGE_FALLBACK_TIMEOUT_MS.*"1.5s"/);
  });

  it("reads the circuit breaker's threshold and cooldown, each defaulting alone, and rejects bad ones", () => {
    expect(fallbackConfigFromEnv({ OPENAI_API_KEY: "k" })?.breaker).toEqual({ failureThreshold: 5, cooldownMs: 30_000 });
    expect(fallbackConfigFromEnv({ OPENAI_API_KEY: "k", TRIAGE_FALLBACK_BREAKER_THRESHOLD: "2" })?.breaker).toEqual({ failureThreshold: 2, cooldownMs: 30_000 });
    expect(fallbackConfigFromEnv({ OPENAI_API_KEY: "k", TRIAGE_FALLBACK_BREAKER_COOLDOWN_MS: "0" })?.breaker).toEqual({ failureThreshold: 5, cooldownMs: 0 });
    expect(() => fallbackConfigFromEnv({ OPENAI_API_KEY: "k", TRIAGE_FALLBACK_BREAKER_THRESHOLD: "0" })).toThrow(
      /TRIAGE_FALLBACK_BREAKER_THRESHOLD: expected a positive integer, got "0"/,
    );
    expect(() => fallbackConfigFromEnv({ OPENAI_API_KEY: "k", TRIAGE_FALLBACK_BREAKER_COOLDOWN_MS: "-1" })).toThrow(/TRIAGE_FALLBACK_BREAKER_COOLDOWN_MS.*"-1"/);
  });
});
