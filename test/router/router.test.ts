import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Encoder } from "../../src/encoders/types.js";
import { Router } from "../../src/router/router.js";
import type { FallbackClassifier } from "../../src/router/hooks.js";
import type { Decision } from "../../src/router/types.js";
import type { TrainResult } from "../../src/train/train.js";
import { editManifest } from "../helpers/manifest.js";
import { tempDir, tierExamples, trainTiers, useEncoder } from "../helpers/tiers.js";

let trained: TrainResult;
let encoder: Encoder;

beforeAll(async () => {
  encoder = await useEncoder();
  trained = await trainTiers(20);
});

describe("training artifact", () => {
  it("records encoder, labels in cost order, parameters, thresholds and cross-validated metrics", () => {
    const m = JSON.parse(readFileSync(join(trained.dir, "manifest.json"), "utf8"));
    expect(m.schemaVersion).toBe(1);
    expect(m.encoder).toMatchObject({ id: "use-lite-512", dimensions: 512 });
    expect(m.encoder.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(m.labels).toEqual(["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]);
    expect(m.ordered).toBe(true);
    expect(m.params.hnsw).toMatchObject({ M: 16, efConstruction: 100 });
    expect(m.data.examples).toBe(80);
    expect(m.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.calibration.targetAccuracy).toBe(0.9);
    expect(m.metrics.cv.accuracy).toBeGreaterThan(0.5);
    expect(m.combination.knn + m.combination.centroid + m.combination.head).toBeCloseTo(1);
  });
});

describe("Router", () => {
  it("classifies held-out tier queries well above chance, with the full decision shape", async () => {
    const router = await Router.load(trained.dir, { encoder });
    const test = tierExamples("test", 10);
    const decisions = await router.classifyBatch(test.map((e) => e.text));
    const correct = decisions.filter((d, i) => d.modelLabel === test[i].label).length;
    expect(correct / test.length).toBeGreaterThan(0.5);
    const d = decisions[0];
    expect(Object.keys(d.scores)).toEqual(router.labels);
    expect(d.neighbours.length).toBeGreaterThan(0);
    expect(d.neighbours[0]).toMatchObject({ label: expect.any(String), similarity: expect.any(Number), exampleId: expect.any(Number) });
    expect(d.confidence).toBeGreaterThanOrEqual(d.margin);
    expect(d.modelVersion).toBe(router.version);
    expect(d.requestId).toMatch(/[0-9a-f-]{36}/);
  });

  it("gives the same answer one at a time as in a batch", async () => {
    const router = await Router.load(trained.dir, { encoder });
    const texts = tierExamples("test", 2).map((e) => e.text);
    const batch = await router.classifyBatch(texts);
    for (let i = 0; i < texts.length; i++) {
      const single = await router.classify(texts[i]);
      expect(single.label).toBe(batch[i].label);
      expect(single.margin).toBeCloseTo(batch[i].margin, 5);
    }
  });

  it("decides config rules before the model", async () => {
    const router = await Router.load(trained.dir, { encoder });
    const d = await router.classify("Thanks!");
    expect(d).toMatchObject({ label: "SIMPLE", decidedBy: "rule", stage: "rule", lowConfidence: false });
  });

  it("rejects empty input clearly and truncates huge input instead of failing", async () => {
    // The encoder stops at 128 tokens by itself, so the cut is observed where it acts: what the encoder and the rules are given.
    const embedded: string[] = [];
    const recording: Encoder = {
      id: encoder.id,
      dimensions: encoder.dimensions,
      fingerprint: encoder.fingerprint,
      embed: (texts, onProgress) => {
        embedded.push(...texts);
        return encoder.embed(texts, onProgress);
      },
    };
    const router = await Router.load(trained.dir, { encoder: recording });
    await expect(router.classify("   ")).rejects.toThrow("query is empty");
    const huge = "Prove this conjecture about prime gaps. ".repeat(30_000);
    const d = await router.classify(huge);
    expect(router.labels).toContain(d.label);
    expect(embedded).toEqual([huge.slice(0, 4000)]);
    // A greeting rule is anchored at both ends: it matches only once everything after character 4,000 is gone.
    const greeting = await router.classify("hello" + " ".repeat(3995) + "and then a long question about compilers");
    expect(greeting).toMatchObject({ decidedBy: "rule", label: "SIMPLE" });
    expect(embedded).toHaveLength(1);
  });

  it("below the margin escalates to the costlier of the top two tiers", async () => {
    const dir = withManifest(trained.dir, (m) => (m.calibration.threshold = 2));
    const router = await Router.load(dir, { encoder });
    const d = await router.classify("Summarise this paragraph about the quarterly revenue numbers.");
    const ranked = Object.entries(d.scores).sort((a, b) => b[1] - a[1]);
    const order = router.labels;
    const expected = order.indexOf(ranked[0][0]) > order.indexOf(ranked[1][0]) ? ranked[0][0] : ranked[1][0];
    expect(d).toMatchObject({ lowConfidence: true, decidedBy: "escalate", label: expected, modelLabel: ranked[0][0] });
  });

  it("flags a query farther from every example than the novelty floor, whatever its margin", async () => {
    const dir = withManifest(trained.dir, (m) => {
      m.calibration.threshold = 0;
      m.calibration.minSimilarity = 2;
    });
    const router = await Router.load(dir, { encoder });
    const d = await router.classify("Summarise this paragraph about the quarterly revenue numbers.");
    expect(d.lowConfidence).toBe(true);
    const plain = await Router.load(
      withManifest(trained.dir, (m) => (m.calibration.threshold = 0)),
      { encoder },
    );
    expect((await plain.classify("Summarise this paragraph about the quarterly revenue numbers.")).lowConfidence).toBe(false);
  });

  it("below the margin abstains to the configured default route", async () => {
    const dir = withManifest(trained.dir, (m) => {
      m.calibration.threshold = 2;
      m.config.policy = { lowConfidence: "abstain", abstainLabel: "MEDIUM", targetAccuracy: 0.9 };
    });
    const router = await Router.load(dir, { encoder });
    const d = await router.classify("what is the boiling point of water");
    expect(d).toMatchObject({ lowConfidence: true, decidedBy: "abstain", label: "MEDIUM" });
  });

  it("below the margin asks the fallback, ignores labels it does not know, and survives it throwing", async () => {
    const dir = withManifest(trained.dir, (m) => {
      m.calibration.threshold = 2;
      m.config.policy = { lowConfidence: "fallback", targetAccuracy: 0.9 };
    });
    const answers: (string | Error)[] = ["FRONTIER", "NOT_A_TIER", new Error("boom")];
    const seen: Parameters<FallbackClassifier["classify"]>[0][] = [];
    const fallback: FallbackClassifier = {
      async classify(request) {
        seen.push(request);
        const a = answers.shift()!;
        if (a instanceof Error) throw a;
        return { label: a, latencyMs: 1 };
      },
    };
    const router = await Router.load(dir, { encoder, fallback });
    const q = "Write a SQL query joining orders and customers by region";
    const first = await router.classify(q);
    expect(first).toMatchObject({ label: "FRONTIER", decidedBy: "fallback", fallback: { label: "FRONTIER" } });
    expect(seen[0].labels.map((l) => l.name)).toEqual(router.labels);
    expect(seen[0].examples.length).toBeGreaterThan(0);
    expect(seen[0].localLabel).toBe(first.modelLabel);
    const second = await router.classify(q);
    expect(second.decidedBy).toBe("fallback-failed");
    expect(router.labels).toContain(second.label);
    const third = await router.classify(q);
    expect(third).toMatchObject({ decidedBy: "fallback-failed", fallback: { label: null, error: "boom" } });
  });

  it("sends every decision to the sink", async () => {
    const logged: { decision: Decision; text: string; tags?: Record<string, string> }[] = [];
    const router = await Router.load(trained.dir, { encoder, sink: { log: (decision, text, tags) => logged.push({ decision, text, tags }) } });
    const rule = await router.classify("hello", { tags: { tenant: "a" } });
    const model = await router.classify("what does a compiler do", { requestId: "req-1" });
    const batch = await router.classifyBatch(["translate this to French", "design a distributed database"], { tags: { tenant: "b" } });
    expect(rule.decidedBy).toBe("rule");
    expect(model.decidedBy).not.toBe("rule");
    // The very decisions returned (not copies), each with the caller's text and tags, in order.
    expect(logged).toHaveLength(4);
    [rule, model, ...batch].forEach((d, i) => expect(logged[i].decision).toBe(d));
    expect(logged.map((l) => [l.text, l.tags])).toEqual([
      ["hello", { tenant: "a" }],
      ["what does a compiler do", undefined],
      ["translate this to French", { tenant: "b" }],
      ["design a distributed database", { tenant: "b" }],
    ]);
    expect(logged[1].decision.requestId).toBe("req-1");
    expect(new Set(logged.map((l) => l.decision.requestId)).size).toBe(4);
  });

  it("gives each query of a batch the request id passed for it, in the decision and to the sink", async () => {
    const logged: Decision[] = [];
    const router = await Router.load(trained.dir, { encoder, sink: { log: (decision) => logged.push(decision) } });
    await router.classify("what does a compiler do", { requestId: "r-0" });
    // A rule, the full encoder and an exact repeat (the cache) in one batch: every path keeps its id.
    const texts = ["hello", "design a distributed database", "what does a compiler do"];
    const batch = await router.classifyBatch(texts, { requestIds: ["r-1", "r-2", "r-3"] });
    expect(batch.map((d) => [d.requestId, d.stage])).toEqual([
      ["r-1", "rule"],
      ["r-2", "full"],
      ["r-3", "cache"],
    ]);
    expect(logged.map((d) => d.requestId)).toEqual(["r-0", "r-1", "r-2", "r-3"]);
    await expect(router.classifyBatch(texts, { requestIds: ["only-one"] })).rejects.toThrow("classifyBatch: 1 request ids for 3 queries; give one per query");
  });

  it("logs each query of a batch with its own tags over the shared ones, to the call's sink after the router's own", async () => {
    const order: string[] = [];
    const own: [string, Record<string, string> | undefined][] = [];
    const router = await Router.load(trained.dir, { encoder, sink: { log: (d) => order.push(`router:${d.requestId}`) } });
    const sink = {
      log: (d: Decision, text: string, tags?: Record<string, string>) => {
        order.push(`call:${d.requestId}`);
        own.push([text, tags]);
      },
    };
    await router.classifyBatch(["hello", "design a distributed database"], {
      requestIds: ["b-1", "b-2"],
      tags: { tenant: "t" },
      queryTags: [{ user: "alice" }, undefined],
      sink,
    });
    await router.classify("what does a compiler do", { requestId: "c-1", tags: { user: "bob" }, sink });
    expect(order).toEqual(["router:b-1", "call:b-1", "router:b-2", "call:b-2", "router:c-1", "call:c-1"]);
    expect(own).toEqual([
      ["hello", { tenant: "t", user: "alice" }],
      ["design a distributed database", { tenant: "t" }],
      ["what does a compiler do", { user: "bob" }],
    ]);
    await expect(router.classifyBatch(["hello"], { queryTags: [] })).rejects.toThrow("classifyBatch: 0 query tags for 1 queries; give one per query");
  });

  it("refuses an encoder with other weights", async () => {
    const other: Encoder = { id: encoder.id, dimensions: 512, fingerprint: "0".repeat(64), embed: (t) => encoder.embed(t) };
    await expect(Router.load(trained.dir, { encoder: other })).rejects.toThrow(/different weights/);
    const wrongId: Encoder = { ...other, id: "onnx:other" };
    await expect(Router.load(trained.dir, { encoder: wrongId })).rejects.toThrow(/trained with encoder "use-lite-512"/);
  });

  it("reload swaps the model in place", async () => {
    const router = await Router.load(trained.dir, { encoder });
    const dir = withManifest(trained.dir, (m) => (m.version = "reloaded-version"));
    await router.reload(dir);
    expect((await router.classify("what time is it in Tokyo")).modelVersion).toBe("reloaded-version");
  });

  it("says what is missing when the directory is not a model", async () => {
    await expect(Router.load(tempDir(), { encoder })).rejects.toThrow(/not a triage model \(no manifest.json\)/);
  });
});

type MutableManifest = {
  version: string;
  calibration: { threshold: number; minSimilarity?: number };
  config: { policy: { lowConfidence: string; abstainLabel?: string; targetAccuracy: number } };
};

/** A copy of the artifact with an edited manifest (to force a policy path). */
function withManifest(dir: string, edit: (m: MutableManifest) => void): string {
  const copy = join(tempDir(), "model");
  cpSync(dir, copy, { recursive: true });
  editManifest(copy, edit);
  return copy;
}
