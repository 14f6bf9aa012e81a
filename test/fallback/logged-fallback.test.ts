// The two halves together, as the router wires them: a low-margin decision asks the LLM classifier,
// the answer (or its failure) goes into Decision.fallback, and the log keeps it for stats and retraining.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LlmClassifier } from "../../src/fallback/index.js";
import type { Decision } from "../../src/router/types.js";
import { DecisionLog } from "../../src/store/index.js";
import { makeDecision } from "../store/make-decision.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir } from "../helpers/temp.js";

let fake: FakeOpenAI;
let dir: string;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  dir = tempDir("triage-fb-log-");
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

it("logs fallback answers and failures, and the log's stats agree with the classifier's counters", async () => {
  const labels = [{ name: "cheap" }, { name: "strong" }];
  const classifier = new LlmClassifier({ baseURL: fake.baseURL, model: "m", maxRetries: 0 });
  const log = DecisionLog.open(join(dir, "d.db"));
  fake.enqueue({ type: "content", content: '{"label":"strong"}' }, { type: "content", content: '{"label":"cheap"}' }, { type: "error", status: 500 });
  for (const [i, text] of ["prove it", "hello", "what now"].entries()) {
    const local = makeDecision({ requestId: `q${i}`, label: "cheap", modelLabel: "cheap", lowConfidence: true, margin: 0.01 });
    const answer = await classifier.classify({ text, labels, localLabel: local.modelLabel });
    const decision: Decision = {
      ...local,
      label: answer.label ?? local.label,
      decidedBy: answer.label ? "fallback" : "fallback-failed",
      fallback: { label: answer.label, latencyMs: answer.latencyMs, error: answer.error },
    };
    log.log(decision, text);
  }
  const rows = log.query({ fallback: true });
  expect(rows.map((r) => [r.label, r.decidedBy, r.fallbackLabel, r.fallbackError])).toEqual([
    ["strong", "fallback", "strong", null],
    ["cheap", "fallback", "cheap", null],
    ["cheap", "fallback-failed", null, "HTTP 500: fake 500"],
  ]);
  const stats = log.stats();
  expect(stats.fallbackRate).toBe(1);
  expect(stats.fallbackFailures).toBe(1);
  expect(stats.fallbackAgreement).toBe(classifier.stats().agreement.rate);
  expect(stats.fallbackAgreement).toBe(0.5);
  log.close();
});
