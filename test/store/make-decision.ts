import type { Decision } from "../../src/router/types.js";

/** A plausible decision for the log tests; override what the test is about. */
export function makeDecision(overrides: Partial<Decision> = {}): Decision {
  const label = overrides.label ?? "cheap";
  return {
    requestId: `req-${Math.random().toString(36).slice(2)}`,
    label,
    confidence: 0.8,
    margin: 0.4,
    scores: { cheap: label === "cheap" ? 0.8 : 0.2, strong: label === "cheap" ? 0.2 : 0.8 },
    modelLabel: label,
    neighbours: [{ label, similarity: 0.9, exampleId: 3 }],
    decidedBy: "model",
    lowConfidence: false,
    stage: "full",
    latencyMs: 2.5,
    modelVersion: "v1",
    ...overrides,
  };
}
