// The cluster's message checks: breaker news is applied only when well formed, with exactly one kind of
// breaker (a provider by name, or the fallback classifier, which no provider name can stand for).
import { describe, expect, it } from "vitest";
import { breakerMessage, isPrimaryMessage, isWorkerMessage } from "../../../src/server/cluster/messages.js";

describe("breaker messages", () => {
  it("are built with only the fields that name the breaker", () => {
    const provider = { kind: "provider", provider: "openai", triage: "breaker", state: "open", extra: 1 } as const;
    expect(breakerMessage(provider, "failed")).toEqual({ triage: "breaker", kind: "provider", provider: "openai", state: "failed" });
    expect(breakerMessage({ kind: "fallback" }, "closed")).toEqual({ triage: "breaker", kind: "fallback", state: "closed" });
  });

  it("are accepted both ways when well formed, and dropped otherwise", () => {
    for (const check of [isWorkerMessage, isPrimaryMessage]) {
      expect(check({ triage: "breaker", kind: "provider", provider: "fallback", state: "open" })).toBe(true);
      expect(check({ triage: "breaker", kind: "fallback", state: "recovered" })).toBe(true);
      expect(check({ triage: "breaker", provider: "openai", state: "open" })).toBe(false); // no kind
      expect(check({ triage: "breaker", kind: "fallback", provider: "openai", state: "open" })).toBe(false);
      expect(check({ triage: "breaker", kind: "provider", state: "open" })).toBe(false);
      expect(check({ triage: "breaker", kind: "classifier", state: "open" })).toBe(false);
      expect(check({ triage: "breaker", kind: "fallback", state: "half-open" })).toBe(false);
      expect(check({ triage: "reload" })).toBe(true);
      expect(check({ triage: 1 })).toBe(false);
      expect(check(null)).toBe(false);
    }
  });
});
