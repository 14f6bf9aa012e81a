import { describe, expect, it } from "vitest";
import { CachedEncoder } from "../../src/encoders/cache.js";
import { genericCorpus } from "../../src/train/corpus.js";
import { TEST_EMBEDDING_CACHE, trainTiers, useEncoder } from "../helpers/tiers.js";

describe("the fast path on a few hundred examples", () => {
  it("is distilled on the examples, the unlabelled texts and the shipped corpus, and calibrated on every example out of fold", async () => {
    const teacher = new CachedEncoder(await useEncoder(), TEST_EMBEDDING_CACHE);
    const unlabelled = ["please convert 3 miles to kilometres", "draft a polite reminder about the unpaid invoice"];
    // 80 per label: 320 examples, which alone cover too few words to distil from.
    const trained = await trainTiers(80, { encoder: teacher, fastPath: "on", unlabelledTexts: unlabelled });
    const s = trained.manifest.stages?.static;
    expect(trained.manifest.data.examples).toBeLessThan(400);
    expect(s).toBeDefined();
    const distilled = s!.distill.trainTexts + s!.distill.heldOutTexts;
    expect(distilled).toBeGreaterThanOrEqual(trained.manifest.data.examples + genericCorpus().length + unlabelled.length - 10);
    expect(s!.coverage).toBeGreaterThan(0);
    // Pair rows, and a cut calibrated on every example (not a held-out slice of ~60).
    expect(s!.distill.vocabSize).toBe(8000 + 65_536);
    expect(s!.calibratedOn).toBe("folds");
    expect(s!.cascadeAccuracy).toBeGreaterThanOrEqual(s!.fullAccuracy - 0.005 - 1e-9);
  }, 600_000); // a fresh embedding cache embeds the corpus and the vocabulary with the full encoder first
});
