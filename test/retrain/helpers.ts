/** Shared pieces of the retraining tests: a cached USE encoder, a labeller endpoint, a registry with a first version, a log of human labels. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CachedEncoder } from "../../src/encoders/cache.js";
import type { Encoder } from "../../src/encoders/types.js";
import { trainIntoRegistry } from "../../src/retrain/publish.js";
import { DecisionLog } from "../../src/store/index.js";
import type { Example } from "../../src/train/data.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { TIERS_CONFIG, tempDir, useEncoder } from "../helpers/tiers.js";
import { makeDecision } from "../store/make-decision.js";

/** Embeddings cached across these test files and runs (the same cache retraining relies on in production). */
export const TEST_CACHE = join(tmpdir(), "triage-retrain-tests-embeddings.sqlite");

let cached: CachedEncoder | undefined;
export async function cachedUse(): Promise<Encoder> {
  cached ??= new CachedEncoder(await useEncoder(), TEST_CACHE);
  return cached;
}

/** An OpenAI-compatible endpoint that answers each query with its true label (a simulated labeller). */
export async function startLabeller(truth: ReadonlyMap<string, string>): Promise<FakeOpenAI> {
  return startFakeOpenAI({
    handler: (req) => {
      const messages = (req.body as { messages?: { role: string; content: string }[] }).messages ?? [];
      const query = messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
      const label = truth.get(query);
      return label ? { type: "content", content: JSON.stringify({ label }) } : { type: "error", status: 500, message: `no truth for ${query}` };
    },
  });
}

/** A new registry whose v0001 is trained on `examples` with the tiers config. */
export async function registryWith(examples: readonly Example[], extra: { policy?: "fallback" } = {}): Promise<string> {
  const root = join(tempDir("triage-registry-"), "models", "tiers");
  const { loadRoutesConfig } = await import("../../src/config/load.js");
  const config = loadRoutesConfig(TIERS_CONFIG);
  if (extra.policy) config.policy.lowConfidence = extra.policy;
  await trainIntoRegistry(root, { data: examples, config, encoder: await cachedUse(), folds: 3 });
  return root;
}

/** A log where people labelled these texts (one decision each). */
export function humanLog(examples: { text: string; label: string }[]): string {
  const path = join(tempDir(), "decisions.db");
  const log = DecisionLog.open(path);
  examples.forEach((e, i) => log.log(makeDecision({ requestId: `h${i}`, label: "SIMPLE", modelLabel: "SIMPLE", scores: { SIMPLE: 1 } }), e.text));
  examples.forEach((e, i) => log.feedback(`h${i}`, { kind: "label", humanLabel: e.label }));
  log.close();
  return path;
}
