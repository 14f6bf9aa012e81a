// The whole learning loop with real parts: train -> route low-margin queries through the LLM fallback
// (a fake OpenAI-compatible server driven by the real openai client) -> decisions logged in SQLite ->
// feedback -> retrain -> the promoted model answers those queries itself -> rollback; a watching Router
// follows both switches without a restart.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { LlmClassifier } from "../../src/fallback/index.js";
import { retrain } from "../../src/retrain/retrain.js";
import { ModelRegistry } from "../../src/model/registry.js";
import { Router } from "../../src/router/router.js";
import type { Decision } from "../../src/router/types.js";
import { DecisionLog } from "../../src/store/index.js";
import type { FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir, tierExamples } from "../helpers/tiers.js";
import { cachedUse, registryWith, startLabeller } from "./helpers.js";

const base = tierExamples("train", 15);
const traffic = tierExamples("train", 45).filter((e) => !base.some((b) => b.text === e.text));
const evalSet = tierExamples("test", 20);
const truth = new Map([...tierExamples("train", 1000), ...tierExamples("test", 1000)].map((e) => [e.text, e.label]));

let fake: FakeOpenAI;
let root: string;
let log: DecisionLog;
let logPath: string;
const opened: Router[] = [];
beforeAll(async () => {
  fake = await startLabeller(truth);
  root = await registryWith(base, { policy: "fallback" });
  logPath = join(tempDir(), "decisions.db");
  log = DecisionLog.open(logPath);
});
afterAll(async () => {
  log.close();
  for (const r of opened) (r as unknown as { watcher?: { stop(): void } }).watcher?.stop();
  await fake.close();
});

it("learns the low-margin queries the fallback answered, serves them locally after promotion, and rolls back", async () => {
  const encoder = await cachedUse();
  const v1 = (await Router.load(root, { encoder })).version;
  const reloads: string[] = [];
  const errors: Error[] = [];
  const watching = await Router.load(root, { encoder, watch: { intervalMs: 20 }, onReload: (v) => reloads.push(v), onError: (e) => errors.push(e) });
  opened.push(watching);
  const fallback = new LlmClassifier({ baseURL: fake.baseURL, model: "labeller", apiKey: "k", timeoutMs: 5000 });
  const router = await Router.load(root, { encoder, fallback, sink: log });

  const decisions: Decision[] = [];
  for (const e of traffic) decisions.push(await router.classify(e.text));
  const asked = decisions.map((d, i) => ({ d, e: traffic[i] })).filter((x) => x.d.decidedBy === "fallback");
  expect(asked.length).toBeGreaterThan(5);
  expect(fake.chatRequests().length).toBe(asked.length);
  for (const { d, e } of asked) expect(d.label).toBe(e.label); // the labeller's answer was used
  expect(decisions.filter((d) => d.decidedBy === "model" || d.decidedBy === "rule").length + asked.length).toBe(traffic.length); // nothing failed

  expect(log.count()).toBe(traffic.length);
  const loggedFallback = log.query({ fallback: true });
  expect(loggedFallback.map((r) => r.fallbackLabel)).toEqual(asked.map((x) => x.e.label));

  // Feedback: people correct two confident decisions, a quality gate escalates one.
  const confident = decisions.map((d, i) => ({ d, e: traffic[i] })).filter((x) => x.d.decidedBy === "model");
  log.feedback(confident[0].d.requestId, { kind: "label", humanLabel: confident[0].e.label });
  log.feedback(confident[1].d.requestId, { kind: "label", humanLabel: confident[1].e.label });
  log.feedback(confident[2].d.requestId, { kind: "escalated" });
  log.flush();

  const report = await retrain({ registry: root, baseData: base, logDb: logPath, evalData: evalSet, heldOut: { share: 0 }, encoder, folds: 3 });
  expect(report.promoted).toBe(true);
  expect(report.provenance.sources.fallback.used).toBe(asked.length);
  expect(report.provenance.sources.human.used).toBe(2);
  expect(report.provenance.sources.escalated.used).toBe(confident[2].d.label === "FRONTIER" ? 0 : 1);
  const v2 = report.candidate!.version;

  const after = await Router.load(root, { encoder });
  expect(after.version).toBe(v2);
  const again = await Promise.all(asked.map((x) => after.classify(x.e.text)));
  const local = again.filter((d, i) => d.decidedBy === "model" && d.label === asked[i].e.label).length;
  expect(local / asked.length).toBeGreaterThanOrEqual(0.8); // before: 0 of them were decided locally

  await vi.waitFor(() => expect(watching.version).toBe(v2), { timeout: 10_000, interval: 20 });
  expect(reloads).toEqual([v2]);

  await new ModelRegistry(root).rollback();
  expect((await Router.load(root, { encoder })).version).toBe(v1);
  await vi.waitFor(() => expect(watching.version).toBe(v1), { timeout: 10_000, interval: 20 });

  // A pointer to a version that does not exist: the watching router reports it and keeps serving v1.
  writeFileSync(join(root, "current"), JSON.stringify({ version: "v0099", previous: "v0002" }));
  await vi.waitFor(() => expect(errors.length).toBe(1), { timeout: 10_000, interval: 20 });
  expect(errors[0].message).toMatch(/v0099/);
  expect(watching.version).toBe(v1);
  expect((await watching.classify(traffic[0].text)).modelVersion).toBe(v1);
  expect(reloads).toEqual([v2, v1]);
});
