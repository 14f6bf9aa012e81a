import { cpSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CachedEncoder } from "../../src/encoders/cache.js";
import { StaticEncoder } from "../../src/encoders/static.js";
import type { Encoder } from "../../src/encoders/types.js";
import { Router } from "../../src/router/router.js";
import type { TrainResult } from "../../src/train/train.js";
import { calibrateCascade } from "../../src/train/cascade.js";
import { editManifest } from "../helpers/manifest.js";
import { TEST_EMBEDDING_CACHE, tempDir, tierExamples, trainTiers, useEncoder } from "../helpers/tiers.js";

let trained: TrainResult;
let encoder: Encoder;

beforeAll(async () => {
  encoder = await useEncoder();
  // Distillation embeds the ~8k vocabulary pieces with the teacher: cache them across runs.
  const teacher = new CachedEncoder(encoder, TEST_EMBEDDING_CACHE);
  trained = await trainTiers(60, { encoder: teacher, fastPath: "on" });
});

function copyWith<T = { stages: { static: { threshold: number; lowThreshold?: number; minSimilarity: number } } }>(edit: (m: T) => void): string {
  const dir = join(tempDir(), "model");
  cpSync(trained.dir, dir, { recursive: true });
  editManifest(dir, edit);
  return dir;
}

describe("encoder cascade", () => {
  it("records the static stage: its encoder, threshold and out-of-fold coverage without losing accuracy", () => {
    const s = trained.manifest.stages?.static;
    expect(s).toBeDefined();
    expect(s!.encoder.id).toBe("static:use-lite-512");
    expect(s!.coverage).toBeGreaterThanOrEqual(0);
    expect(s!.coverage).toBeLessThanOrEqual(1);
    // Calibrated to lose at most 0.5% of examples against the full router; when the queries novel in the
    // static space lose more than that alone (the blend makes the full router harder to match), the most
    // accurate cut, and it says so.
    if (s!.withinTolerance !== false) expect(s!.cascadeAccuracy).toBeGreaterThanOrEqual(s!.fullAccuracy - 0.005 - 1e-9);
    else for (const p of s!.curve ?? []) expect(s!.cascadeAccuracy).toBeGreaterThanOrEqual(p.cascadeAccuracy - 1e-9);
    expect(s!.distill.vocabSize).toBeGreaterThan(1000);
    // The static head also trained on word-dropout copies of the examples.
    expect(s!.wordDropout).toMatchObject({ copies: 4, rate: 0.1 });
    expect(s!.wordDropout!.rows).toBeGreaterThan(60);
    // The novelty floor flags about the configured share of held-out in-scope queries.
    expect(trained.manifest.calibration.minSimilarity).toBeGreaterThan(0);
    expect(trained.manifest.calibration.noveltyRate).toBe(0.05);
  });

  it("decides with the static stage above its threshold and the full encoder below it", async () => {
    const queries = tierExamples("test", 8).map((e) => e.text);
    const accept = (m: { stages: { static: { threshold: number; lowThreshold?: number; minSimilarity: number } } }) => {
      m.stages.static.threshold = -1;
      m.stages.static.minSimilarity = -1;
    };
    const always = await Router.load(copyWith(accept), { encoder });
    const never = await Router.load(
      copyWith((m) => {
        m.stages.static.threshold = 2;
        m.stages.static.lowThreshold = -1;
        m.stages.static.minSimilarity = -1;
      }),
      { encoder },
    );
    let checked = 0;
    for (const q of queries) {
      const full = await never.classify(q);
      if (full.stage === "rule") continue; // config rules come before any encoder
      expect(full.stage).toBe("full");
      expect((await always.classify(q)).stage).toBe("static");
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    // Below the low band the static stage settles the query as low-confidence itself.
    const settle = await Router.load(
      copyWith((m) => {
        Object.assign(m.stages.static, { threshold: 2, lowThreshold: 2, minSimilarity: -1 });
      }),
      { encoder },
    );
    expect(await settle.classify("Explain how a B-tree index speeds up range queries")).toMatchObject({ stage: "static", lowConfidence: true, decidedBy: "escalate" });
    const novel = await Router.load(
      copyWith((m) => (m.stages.static.minSimilarity = 2)),
      { encoder },
    );
    const d = await novel.classify("what does the fox say");
    expect(d).toMatchObject({ stage: "static", lowConfidence: true, decidedBy: "escalate" });
    const off = await Router.load(copyWith(accept), { encoder, cascade: false });
    expect((await off.classify(queries[0])).stage).toBe("full");
  });

  it("blends the static stage's scores into the full encoder's decisions when the manifest records a blend", async () => {
    type WithBlend = { stages: { static: { threshold: number; lowThreshold?: number; minSimilarity: number; blend?: unknown } } };
    const queries = tierExamples("test", 4).map((e) => e.text);
    const weight = 0.4;
    const plain = await Router.load(
      copyWith((m: WithBlend) => delete m.stages.static.blend),
      { encoder, cascade: false },
    );
    const staticOnly = await Router.load(
      copyWith((m: WithBlend) => Object.assign(m.stages.static, { threshold: -1, minSimilarity: -1 })),
      { encoder },
    );
    const blended = await Router.load(
      copyWith((m: WithBlend) => (m.stages.static.blend = { weight, threshold: 0, accuracy: 1, fullAccuracy: 1 })),
      { encoder, cascade: false },
    );
    let checked = 0;
    for (const q of queries) {
      const [full, fast, both] = [await plain.classify(q), await staticOnly.classify(q), await blended.classify(q)];
      if (full.stage === "rule") continue;
      expect([full.stage, fast.stage, both.stage]).toEqual(["full", "static", "full"]);
      for (const label of Object.keys(full.scores)) expect(both.scores[label]).toBeCloseTo((1 - weight) * full.scores[label] + weight * fast.scores[label], 9);
      const top = Object.entries(both.scores).sort((a, b) => b[1] - a[1])[0][0];
      expect(both.modelLabel).toBe(top);
      expect(both.neighbours).toEqual(full.neighbours);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("a query the static stage leaves to the full encoder is embedded and scored by it once, then blended as without the cascade", async () => {
    type WithBlend = { stages: { static: { threshold: number; lowThreshold?: number; minSimilarity: number; blend?: unknown } } };
    const blend = { weight: 0.4, threshold: 0, accuracy: 1, fullAccuracy: 1 };
    // Every query falls between the static stage's two thresholds: it looks, then defers.
    const deferring = await Router.load(
      copyWith((m: WithBlend) => Object.assign(m.stages.static, { threshold: 2, lowThreshold: -1, minSimilarity: -1, blend })),
      { encoder, cacheSize: 0 },
    );
    const blendedOnly = await Router.load(
      copyWith((m: WithBlend) => (m.stages.static.blend = blend)),
      { encoder, cascade: false, cacheSize: 0 },
    );
    const staticEmbeds = vi.spyOn(StaticEncoder.prototype, "embedOne");
    try {
      const queries = tierExamples("test", 3).map((e) => e.text);
      let checked = 0;
      for (const q of queries) {
        staticEmbeds.mockClear();
        const d = await deferring.classify(q);
        if (d.stage === "rule") continue;
        expect(d.stage).toBe("full");
        expect(staticEmbeds).toHaveBeenCalledTimes(1); // twice before: once to look, once for the blend
        const alone = await blendedOnly.classify(q);
        expect(d.scores).toEqual(alone.scores);
        expect([d.label, d.margin]).toEqual([alone.label, alone.margin]);
        checked++;
      }
      expect(checked).toBeGreaterThan(5);
      const batch = await deferring.classifyBatch(queries);
      const alone = await blendedOnly.classifyBatch(queries);
      expect(batch.map((d) => d.scores)).toEqual(alone.map((d) => d.scores));
    } finally {
      staticEmbeds.mockRestore();
    }
  });

  it("picks a recorded operating point by tolerance (fastPathTolerance), else the trained one", async () => {
    const curved = copyWith((m) => {
      const point = (tolerance: number, threshold: number) => ({ tolerance, threshold, lowThreshold: -1, coverage: 0, cascadeAccuracy: 0, coverageLoss: 0, withinTolerance: true });
      Object.assign(m.stages.static, { threshold: 2, lowThreshold: -1, minSimilarity: -1, curve: [point(0, 2), point(0.01, -1)] });
    });
    const q = "Explain how a B-tree index speeds up range queries";
    expect((await (await Router.load(curved, { encoder })).classify(q)).stage).toBe("full");
    expect((await (await Router.load(curved, { encoder, fastPathTolerance: 0.005 })).classify(q)).stage).toBe("full");
    expect((await (await Router.load(curved, { encoder, fastPathTolerance: 0.02 })).classify(q)).stage).toBe("static");
    expect(trained.manifest.stages?.static?.curve?.map((p) => p.tolerance)).toContain(0.008);
  });

  it("reuses the full embedding for an exact repeat (case and spacing ignored)", async () => {
    const toFull = (m: { stages: { static: { threshold: number; lowThreshold?: number; minSimilarity: number } } }) => {
      m.stages.static.threshold = 2;
      m.stages.static.lowThreshold = -1;
      m.stages.static.minSimilarity = -1;
    };
    const router = await Router.load(copyWith(toFull), { encoder });
    const first = await router.classify("Explain how a B-tree index speeds up range queries");
    const again = await router.classify("  explain how a b-tree index   speeds up range queries ");
    expect(first.stage).toBe("full");
    expect(again.stage).toBe("cache");
    expect(again.label).toBe(first.label);
    expect(again.margin).toBeCloseTo(first.margin, 6);
    const noCache = await Router.load(copyWith(toFull), { encoder, cacheSize: 0 });
    await noCache.classify("what is a monad");
    expect((await noCache.classify("what is a monad")).stage).toBe("full");
  });

  it("refuses a static encoder whose files changed", async () => {
    const dir = join(tempDir(), "model");
    cpSync(trained.dir, dir, { recursive: true });
    appendFileSync(join(dir, "static", "encoder", "static.bin"), Buffer.from([1, 2, 3]));
    await expect(Router.load(dir, { encoder })).rejects.toThrow(/static/);
  });
});

describe("calibrateCascade", () => {
  const ex = (margin: number, staticCorrect: boolean, fullCorrect: boolean, fullConfident = true) => ({ margin, staticCorrect, fullCorrect, fullConfident });

  it("always keeps novel queries (Infinity) static and never accepts below the stage's own threshold", () => {
    const examples = [ex(Infinity, true, true), ex(0.5, false, true), ex(0.1, true, true)];
    expect(calibrateCascade(examples, 0.3, 1)).toEqual({ threshold: 0.5, lowThreshold: -1, coverage: 2 / 3, cascadeAccuracy: 2 / 3, coverageLoss: 0, withinTolerance: true });
  });

  it("takes the most coverage that loses no more than the tolerance against the full router", () => {
    // Static margins descending; static wrong on the 3rd and 5th, full wrong only on the 5th.
    const examples = [ex(0.9, true, true), ex(0.8, true, true), ex(0.7, false, true), ex(0.6, true, true), ex(0.5, false, false)];
    expect(calibrateCascade(examples, 0, 0)).toMatchObject({ threshold: 0.8, lowThreshold: -1, coverage: 0.4, cascadeAccuracy: 0.8 });
    // Allowing one lost answer in five accepts everything: static 3/5 right vs full 4/5.
    expect(calibrateCascade(examples, 0, 0.2)).toMatchObject({ threshold: 0.5, coverage: 1, cascadeAccuracy: 0.6 });
  });

  it("settles the lowest margins as low-confidence when the full router would be unsure of them too", () => {
    const examples = [ex(0.9, true, true), ex(0.8, true, true), ex(0.3, true, true), ex(0.2, false, false, false), ex(0.1, true, true, false)];
    // Own threshold 0.5: 0.3 and below can never be accepted; the two the full router is unsure of can be settled.
    expect(calibrateCascade(examples, 0.5, 0, 0)).toEqual({ threshold: 0.8, lowThreshold: 0.3, coverage: 0.8, cascadeAccuracy: 0.8, coverageLoss: 0, withinTolerance: true });
    // Settling the 0.3 one too would cost a confident full decision: allowed only with a coverage tolerance.
    expect(calibrateCascade(examples, 0.5, 0, 0.2)).toEqual({ threshold: 0.8, lowThreshold: 0.8, coverage: 1, cascadeAccuracy: 0.8, coverageLoss: 0.2, withinTolerance: true });
  });

  it("takes the most accurate cut, and says so, when novel queries alone lose more than the tolerance", () => {
    // Two novel queries the static stage gets wrong (-2); the best top band wins back only one answer.
    const examples = [ex(Infinity, false, true), ex(Infinity, false, true), ex(0.9, true, false), ex(0.8, true, true), ex(0.2, false, true)];
    // Accepting nothing would leave accuracy at 2/5 and every query but the novel ones on the full encoder.
    expect(calibrateCascade(examples, 0, 0)).toEqual({ threshold: 0.8, lowThreshold: -1, coverage: 0.8, cascadeAccuracy: 0.6, coverageLoss: 0, withinTolerance: false });
    // With room for the loss, the usual search applies.
    expect(calibrateCascade(examples, 0, 0.4)).toMatchObject({ coverage: 1, withinTolerance: true });
  });

  it("counts coverage net: confident static decisions where the full router was unsure pay for settled ones", () => {
    const examples = [ex(0.9, true, true, false), ex(0.8, true, true), ex(0.3, true, true), ex(0.1, true, true)];
    expect(calibrateCascade(examples, 0.5, 0, 0)).toEqual({ threshold: 0.8, lowThreshold: 0.3, coverage: 0.75, cascadeAccuracy: 1, coverageLoss: 0, withinTolerance: true });
  });
});
