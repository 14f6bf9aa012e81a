import { describe, expect, it } from "vitest";
import { normalize } from "../../src/common/vector.js";
import { seededRandom } from "../../src/common/random.js";
import { evaluateRouting } from "../../src/outcomes/evaluate.js";
import { splitByPrompt } from "../../src/outcomes/split.js";
import { crossValidate } from "../../src/outcomes/cv.js";
import { DEFAULT_KNN, OutcomePredictor } from "../../src/outcomes/router.js";
import { surfaceFeatures } from "../../src/outcomes/features.js";
import { sweepRule } from "../../src/outcomes/sweep.js";
import type { OutcomeSet } from "../../src/outcomes/set.js";

/**
 * Synthetic outcomes where the right answer is known: prompts of kind "a" are solved by every model,
 * kind "b" only by the strong one, kind "c" by mid and strong. Embeddings: one axis per kind plus noise.
 */
const KINDS = { a: [1, 1, 1], b: [0, 0, 1], c: [0, 1, 1] } as const;
const COST = [1, 5, 20];
const MODELS = ["cheap", "mid", "strong"];

function vectorFor(text: string): Float32Array {
  const kind = text[0] as keyof typeof KINDS;
  const rand = seededRandom([...text].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7) >>> 0);
  const v = Float32Array.from({ length: 8 }, () => (rand() - 0.5) * 0.6);
  v[Object.keys(KINDS).indexOf(kind)] += 1;
  return normalize(v);
}

function synthetic(perKind: number, models = [0, 1, 2]): OutcomeSet {
  const prompts = (Object.keys(KINDS) as (keyof typeof KINDS)[]).flatMap((kind) =>
    [...Array(perKind).keys()].map((i) => {
      const text = `${kind} prompt ${i}`;
      return {
        id: text,
        text,
        scores: Float64Array.from(models, (m) => KINDS[kind][m]),
        costs: Float64Array.from(models, (m) => COST[m] * 1e-3),
        where: `synthetic:${i}`,
      };
    }),
  );
  return { models: models.map((m) => MODELS[m]), prompts, costSource: "data", notes: [] };
}

const embed = async (texts: readonly string[]) => texts.map(vectorFor);

describe("OutcomePredictor on synthetic outcomes", () => {
  const set = synthetic(20);
  const router = OutcomePredictor.fit(
    set,
    set.prompts.map((p) => vectorFor(p.text)),
    { method: "knn", knn: { k: 10, smoothing: 1, sharpness: 5 } },
  );

  it("predicts per-model success from the neighbours and picks the cheapest good model", () => {
    const pick = (text: string, tolerance: number) => router.route(vectorFor(text), text, tolerance).model;
    expect(pick("a new", 0.1)).toBe("cheap");
    expect(pick("b new", 0.1)).toBe("strong");
    expect(pick("c new", 0.1)).toBe("mid");
    const p = router.predict(vectorFor("b new"), "b new");
    expect(p[2]).toBeGreaterThan(0.9);
    expect(p[0]).toBeLessThan(0.2);
  });

  it("the tolerance dial moves from the best predicted to the cheapest", () => {
    const p = router.predict(vectorFor("b other"), "b other");
    expect(router.models[router.chooseByTolerance(p, 0)]).toBe("strong");
    expect(router.models[router.chooseByTolerance(p, 1)]).toBe("cheap");
  });

  it("the lambda dial prices the same trade-off", () => {
    const p = router.predict(vectorFor("c other"), "c other");
    expect(router.models[router.chooseByLambda(p, 0)]).not.toBe("cheap");
    expect(router.models[router.chooseByLambda(p, 0.2)]).toBe("mid"); // mid costs 0.25 of strong, succeeds as often
    expect(router.models[router.chooseByLambda(p, 100)]).toBe("cheap");
  });

  it("works with two models (weak/strong)", () => {
    const two = synthetic(15, [0, 2]);
    const r = OutcomePredictor.fit(
      two,
      two.prompts.map((q) => vectorFor(q.text)),
    );
    // Default smoothing pulls "a" toward the cheap model's global rate (1/3), so the gap there is ~0.2.
    expect(r.route(vectorFor("a x"), "a x", 0.3).model).toBe("cheap");
    expect(r.route(vectorFor("b x"), "b x", 0.3).model).toBe("strong");
    expect(r.route(vectorFor("c x"), "c x", 0.3).model).toBe("strong");
    expect(r.route(vectorFor("a x"), "a x", 0).model).toBe("strong");
  });

  it("cross-validation on training rows finds a setting that routes almost like the oracle", async () => {
    const cv = await crossValidate(
      set,
      set.prompts.map((p) => vectorFor(p.text)),
      { seed: 3, logistic: false },
    );
    expect(cv.trials.length).toBeGreaterThan(10);
    expect(cv.best.method).toBe("knn");
    // Perfect routing's hull (costs in 1e-3 $ over 60 prompts): all cheap (60, 1/3); a→cheap c→mid b→cheap
    // (140, 2/3); b→strong too (520, 1); flat to all-strong at 1200. AIQ = (40 + 316.7 + 680) / 1140 = 0.9094.
    expect(cv.best.aiq).toBeGreaterThan(0.88);
    expect(cv.best.aiq).toBeLessThanOrEqual(0.9095);
  });
});

describe("evaluateRouting end to end on synthetic outcomes", () => {
  it("beats random mixing and reaches the strong model's quality far cheaper", async () => {
    const { train, test } = splitByPrompt(synthetic(16), 0.5, 7);
    const report = await evaluateRouting(train, test, embed, { seed: 1, logistic: false });
    expect(report.weak).toBe("cheap");
    expect(report.strong).toBe("strong");
    expect(report.baselines.random.apgr).toBeCloseTo(0.5, 9);
    // Perfect routing: PGR 0.5 with no strong call (a→cheap, c→mid), 1 at 1/3 strong calls → APGR 0.9167.
    expect(report.apgr).toBeGreaterThan(0.8);
    expect(report.apgr).toBeLessThanOrEqual(0.9167);
    expect(report.saving95).not.toBeNull();
    expect(report.saving95!).toBeGreaterThan(0.5);
    expect(report.baselines.oracle.quality).toBe(1);
    expect(report.baselines.strongest.quality).toBe(1);
    // At 95% of the strong quality at most 5% of prompts may lose an answer some model had.
    expect(report.router.atTarget.qualityLoss / report.testPrompts).toBeLessThanOrEqual(0.05);
  });

  it("the logistic head is tried in cross-validation when asked", async () => {
    const { train, test } = splitByPrompt(synthetic(10), 0.5, 2);
    const report = await evaluateRouting(train, test, embed, { seed: 1 });
    expect(report.router.cv.map((c) => c.method)).toEqual(["knn", "logistic", "surface", "blend"]);
    expect(report.apgr).toBeGreaterThan(0.8);
  });
});

describe("splitByPrompt", () => {
  it("is seeded, disjoint, and keeps equal texts together", () => {
    const set = synthetic(10);
    set.prompts.push({ ...set.prompts[0], id: "dup" });
    const a = splitByPrompt(set, 0.5, 11);
    const b = splitByPrompt(set, 0.5, 11);
    expect(a.train.prompts.map((p) => p.id)).toEqual(b.train.prompts.map((p) => p.id));
    const trainTexts = new Set(a.train.prompts.map((p) => p.text));
    expect(a.test.prompts.some((p) => trainTexts.has(p.text))).toBe(false);
    expect(a.train.prompts.length + a.test.prompts.length).toBe(31);
    expect(() => splitByPrompt(set, 1, 1)).toThrow(/--split must be between 0 and 1/);
  });
});

describe("logistic head with surface features", () => {
  it("learns a difficulty the embedding cannot see (prompt length)", () => {
    const rand = seededRandom(5);
    const prompts = [...Array(80).keys()].map((i) => {
      const long = i % 2 === 1;
      const text = `${long ? "many words here ".repeat(12 + (i % 5)) : "short"} ${i}`;
      return { id: `${i}`, text, scores: Float64Array.from([long ? 0 : 1, 1]), costs: Float64Array.from([0.001, 0.01]), where: `synthetic:${i}` };
    });
    const set: OutcomeSet = { models: ["weak", "strong"], prompts, costSource: "data", notes: [] };
    const noise = () => normalize(Float32Array.from({ length: 8 }, () => rand() - 0.5)); // no signal in the embedding
    const r = OutcomePredictor.fit(set, prompts.map(noise), {
      method: "logistic",
      knn: { k: 5, smoothing: 1, sharpness: 0 },
      logistic: { l2: 1e-3, epochs: 150, learningRate: 0.05 },
    });
    expect(r.route(noise(), "short 999", 0.1).model).toBe("weak");
    expect(r.route(noise(), `${"many words here ".repeat(14)} 999`, 0.1).model).toBe("strong");
  });
});

describe("the estimators cross-validation chooses from", () => {
  it("a surface-only head learns a difficulty from the text's shape alone", () => {
    const prompts = [...Array(80).keys()].map((i) => {
      const steps = i % 2 === 1;
      const text = steps ? `Tom has ${i} apples and buys ${i + 3} more, then gives half away; each costs $2. How many dollars are left after ${i % 7} days?` : `Name a colour ${i}`;
      return { id: `${i}`, text, scores: Float64Array.from([steps ? 0 : 1, 1]), costs: Float64Array.from([0.001, 0.01]), where: `synthetic:${i}` };
    });
    const set: OutcomeSet = { models: ["weak", "strong"], prompts, costSource: "data", notes: [] };
    const flat = () => normalize(Float32Array.from({ length: 8 }, (_, k) => (k === 0 ? 1 : 0))); // the same embedding for every prompt
    const r = OutcomePredictor.fit(set, prompts.map(flat), { method: "surface", knn: DEFAULT_KNN, surface: { l2: 1e-2, epochs: 150, learningRate: 0.05, features: "extended" } });
    expect(r.route(flat(), "Name a colour 1000", 0.1).model).toBe("weak");
    expect(r.route(flat(), "Ann has 12 pens and buys 30% more, then loses 4 each day. How many are left after 3 days?", 0.1).model).toBe("strong");
  });

  it("extended features see arithmetic, percentages, money, steps, code and answer options the basic ones miss", () => {
    const basic = surfaceFeatures("What is 15% of $40, then times 3?").length;
    const f = surfaceFeatures("What is 15% of $40, then times 3?", "extended");
    expect(f.length).toBeGreaterThan(basic);
    expect(f.slice(basic).some((v) => v > 0)).toBe(true);
    const code = surfaceFeatures("def f(x):\n    return x", "extended");
    const plain = surfaceFeatures("tell me a story", "extended");
    expect(code[basic + 5]).toBeGreaterThan(plain[basic + 5]);
  });

  it("tries logistic, surface and blended estimators, and with more than two models the lambda rule too", async () => {
    const set = synthetic(12);
    const cv = await crossValidate(
      set,
      set.prompts.map((p) => vectorFor(p.text)),
      { seed: 2 },
    );
    const methods = new Set(cv.trials.map((t) => t.method));
    expect([...methods].sort()).toEqual(["blend", "knn", "logistic", "surface"]);
    expect(cv.trials.some((t) => t.logistic?.features === "extended")).toBe(true);
    expect(new Set(cv.trials.map((t) => t.rule)).size).toBeGreaterThan(0);
    expect(cv.bestPreds).toHaveLength(set.prompts.length);
    const best = Math.max(...cv.trials.map((t) => t.aiq));
    expect(cv.best.aiq).toBe(best);
  });

  it("the lambda rule weighs how much cheaper a model is: a cheap model slightly worse wins at a moderate price", () => {
    const set = synthetic(10);
    const r = OutcomePredictor.fit(
      set,
      set.prompts.map((p) => vectorFor(p.text)),
      { method: "knn", knn: { k: 10, smoothing: 1, sharpness: 5 } },
    );
    const pred = Float64Array.from([0.8, 0.85, 0.9]); // cheap, mid, strong at 1 : 5 : 20 cost
    expect(r.chooseByLambda(pred, 0)).toBe(2);
    expect(r.chooseByLambda(pred, 0.5)).toBe(0);
    // The tolerance rule needs 0.1 to take the cheap model, and takes mid first.
    expect(r.chooseByTolerance(pred, 0.06)).toBe(1);
    const sweep = sweepRule(
      set,
      set.prompts.map((p) => r.predict(vectorFor(p.text), p.text)),
      r.byCost,
      r.relativeCost,
      r.strong,
      "lambda",
    );
    expect(sweep.choicesAt(0).filter((m) => m === 2).length).toBeGreaterThan(0);
    expect(sweep.choicesAt(sweep.points.length - 1).every((m) => m === 0)).toBe(true);
  });
});
