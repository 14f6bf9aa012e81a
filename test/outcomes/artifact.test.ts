// The outcome artifact stores the projection its logistic head reads, and reads back models without one.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { loadOutcomeModel, writeOutcomeArtifact } from "../../src/outcomes/artifact.js";
import { fitOutcomeModel, type FittedOutcomeModel } from "../../src/outcomes/fit.js";
import { surfaceFeatures } from "../../src/outcomes/features.js";
import { DEFAULT_KNN, OutcomePredictor } from "../../src/outcomes/router.js";
import type { OutcomeSet } from "../../src/outcomes/set.js";
import { fitPca } from "../../src/train/pca.js";
import { sealManifest } from "../../src/model/checksums.js";
import { tempDir } from "../helpers/tiers.js";

const DIMS = 24;
const ENCODER = { id: "test-encoder", fingerprint: "test", dimensions: DIMS };

/** A cheap and a strong model; the cheap one solves prompts leaning on axis 0, embeddings with noise on every axis. */
function outcomes(n: number, seed: number): { set: OutcomeSet; vectors: Float32Array[] } {
  const rand = seededRandom(seed);
  const vectors: Float32Array[] = [];
  const prompts = [...Array(n).keys()].map((i) => {
    const v = Float32Array.from({ length: DIMS }, () => rand() - 0.5);
    const norm = Math.hypot(...v);
    vectors.push(v.map((x) => x / norm));
    const text = `prompt ${i} ${"word ".repeat(i % 7)}`;
    return { id: text, text, scores: Float64Array.of(v[0] > 0 ? 1 : 0, 1), costs: Float64Array.of(1e-4, 2e-3), where: `test:${i}` };
  });
  return { set: { models: ["cheap", "strong"], prompts, costSource: "data", notes: [] }, vectors };
}

/** The cross-validated fit, its estimator swapped for a blend so that the artifact has a logistic head. */
async function withHead(set: OutcomeSet, vectors: Float32Array[], headDimensions: number): Promise<FittedOutcomeModel> {
  const fitted = await fitOutcomeModel(set, vectors, { repeats: 2, headDimensions, threads: 1 });
  const spec = { method: "blend" as const, knn: DEFAULT_KNN, logistic: { l2: 1e-3, epochs: 60, learningRate: 0.05, features: "basic" as const } };
  const projection = headDimensions > 0 ? fitPca(vectors, headDimensions, Infinity) : undefined;
  return { ...fitted, predictor: OutcomePredictor.fit(set, vectors, spec, projection) };
}

const write = (out: string, set: OutcomeSet, fitted: FittedOutcomeModel) =>
  writeOutcomeArtifact({ out, set, fitted, encoder: ENCODER, seed: 1, defaultDial: { quality: 0.95 }, lastQuestionOnly: false });

describe("outcome artifact with a projected head", () => {
  const { set, vectors } = outcomes(120, 5);
  const queries = outcomes(20, 99);
  let dir: string;
  let fitted: FittedOutcomeModel;

  beforeAll(async () => {
    dir = join(tempDir(), "model");
    fitted = await withHead(set, vectors, 6);
    await write(dir, set, fitted);
  }, 60_000);

  it("cross-validation reads the projection by default, over the fold partitions asked for", async () => {
    const plain = await fitOutcomeModel(set, vectors, { repeats: 2, threads: 1 });
    expect(plain.cv.repeats).toBe(2);
    // 24 dimensions are under the default 128: the head reads all of them, and no projection is stored.
    expect(plain.predictor.state.projection).toBeUndefined();
    expect(fitted.predictor.state.projection?.outputDims).toBe(6);
    expect(fitted.predictor.state.head?.model.dimensions).toBe(6 + surfaceFeatures("", "basic").length);
  }, 60_000);

  it("records the projection and the partitions, stores its values, and predicts after loading as when fitted", async () => {
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(m.outcomes.projection).toMatchObject({ inputDims: DIMS, outputDims: 6 });
    expect(m.outcomes.projection.varianceKept).toBeGreaterThan(0.2);
    expect(m.outcomes.cv.repeats).toBe(2);
    expect(Object.keys(m.checksums.files).sort()).toEqual(["head.bin", "index.hnsw", "projection.bin", "scores.bin"]);
    const loaded = await loadOutcomeModel(dir);
    expect(loaded.verified).toBe(true);
    queries.set.prompts.forEach((p, i) => {
      const want = fitted.predictor.predict(queries.vectors[i], p.text);
      const got = loaded.predictor.predict(queries.vectors[i], p.text);
      got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 6));
    });
  });

  it("a model whose head reads the whole embedding (as every model before projections) has no projection file and still loads", async () => {
    const whole = join(tempDir(), "whole");
    const f = await withHead(set, vectors, 0);
    await write(whole, set, f);
    const m = JSON.parse(readFileSync(join(whole, "manifest.json"), "utf8"));
    expect(m.outcomes.projection).toBeUndefined();
    expect(m.outcomes.head.dimensions).toBe(DIMS + surfaceFeatures("", "basic").length);
    // Written before `cv.repeats` was recorded, too (sealed again, as that triage sealed it).
    delete m.outcomes.cv.repeats;
    writeFileSync(join(whole, "manifest.json"), JSON.stringify(sealManifest(m, m.checksums.files)));
    const loaded = await loadOutcomeModel(whole);
    expect(loaded.verified).toBe(true);
    const p = queries.set.prompts[0];
    expect([...loaded.predictor.predict(queries.vectors[0], p.text)]).toEqual([...f.predictor.predict(queries.vectors[0], p.text)]);
  }, 60_000);

  it("a damaged projection file is refused, naming it", async () => {
    const copy = join(tempDir(), "damaged");
    await write(copy, set, fitted);
    const bytes = readFileSync(join(copy, "projection.bin"));
    bytes[8] ^= 1;
    writeFileSync(join(copy, "projection.bin"), bytes);
    await expect(loadOutcomeModel(copy)).rejects.toThrow(/projection\.bin: checksum does not match/);
  });

  it("a manifest whose head does not fit its projection is refused, naming the field", async () => {
    const copy = join(tempDir(), "inconsistent");
    await write(copy, set, fitted);
    const m = JSON.parse(readFileSync(join(copy, "manifest.json"), "utf8"));
    m.outcomes.projection.outputDims = 7;
    writeFileSync(join(copy, "manifest.json"), JSON.stringify(m));
    await expect(loadOutcomeModel(copy)).rejects.toThrow(/outcomes\.head\.dimensions is 11, expected 12 \(the projected embedding and the basic features\)/);
    m.outcomes.projection = { inputDims: 512, outputDims: 6, varianceKept: 0.5 };
    writeFileSync(join(copy, "manifest.json"), JSON.stringify(m));
    await expect(loadOutcomeModel(copy)).rejects.toThrow(/outcomes\.projection reads 512 dimensions, the encoder gives 24/);
  });
});
