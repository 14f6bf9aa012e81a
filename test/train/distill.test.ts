import { describe, expect, it } from "vitest";
import { distillStaticEncoder, tokenTexts } from "../../src/train/distill.js";
import { FakeTeacher, WordOrderTeacher, syntheticTexts, tinyUnigramVocabulary, tinyWordPieceVocabulary } from "../helpers/static-fixtures.js";

describe("distillStaticEncoder", () => {
  const texts = syntheticTexts(600, 11);
  /** Enough epochs, at a rate that fits the tiny vocabulary, for the fit to clearly beat the initialisation. */
  const fitting = { vocabulary: tinyUnigramVocabulary(), epochs: 10, seed: 3, learningRate: 0.01 };

  it("fits: held-out cosine to the teacher beats the token-only initialisation", async () => {
    const { encoder, report } = await distillStaticEncoder(new FakeTeacher(), texts, fitting);
    expect(report.heldOutTexts).toBe(Math.round((report.heldOutTexts + report.trainTexts) * 0.1));
    expect(report.heldOutCosineInit).not.toBeNull();
    expect(report.heldOutCosineFitted as number).toBeGreaterThan((report.heldOutCosineInit as number) + 0.2);
    expect(report.bestEpoch).toBeGreaterThan(0);
    expect(report.heldOutCosineByEpoch).toHaveLength(10);
    expect(encoder.id).toBe("static:fake-teacher");
    expect(encoder.teacher.fingerprint).toBe("fake-fingerprint");
  });

  it("is deterministic given a seed", async () => {
    const options = { vocabulary: tinyUnigramVocabulary(), epochs: 2, seed: 5 };
    const a = await distillStaticEncoder(new FakeTeacher(), texts, options);
    const b = await distillStaticEncoder(new FakeTeacher(), texts, options);
    expect(a.encoder.fingerprint).toBe(b.encoder.fingerprint);
    const c = await distillStaticEncoder(new FakeTeacher(), texts, { ...options, seed: 6 });
    expect(c.encoder.fingerprint).not.toBe(a.encoder.fingerprint);
  });

  it("with zero epochs returns the token-only initialisation: a token's row is the teacher's vector for it", async () => {
    const teacher = new FakeTeacher();
    const { encoder, report } = await distillStaticEncoder(teacher, texts, { vocabulary: tinyUnigramVocabulary(), epochs: 0 });
    expect(report.bestEpoch).toBe(0);
    expect(report.heldOutCosineFitted).toBe(report.heldOutCosineInit);
    const [fromTeacher] = await teacher.embed(["refund"]);
    const [fromStatic] = await encoder.embed(["refund"]); // one piece: its row, normalised (bias starts at zero)
    let cos = 0;
    for (let d = 0; d < fromTeacher.length; d++) cos += fromTeacher[d] * fromStatic[d];
    expect(cos).toBeGreaterThan(0.999);
  });

  it("projects into fewer dimensions: a smaller encoder whose held-out fit still beats the initialisation", async () => {
    const { encoder, report } = await distillStaticEncoder(new FakeTeacher(), texts, { ...fitting, dimensions: 6 });
    expect(encoder.dimensions).toBe(6);
    expect(report.dimensions).toBe(6);
    expect(report.varianceKept).toBeGreaterThan(0.3);
    expect(report.varianceKept).toBeLessThan(1);
    expect(report.heldOutCosineFitted as number).toBeGreaterThan((report.heldOutCosineInit as number) + 0.1);
    const [v] = await encoder.embed(["refund my card"]);
    expect(v).toHaveLength(6);
    // At or above the teacher's size nothing is projected.
    const full = await distillStaticEncoder(new FakeTeacher(), texts, { vocabulary: tinyUnigramVocabulary(), epochs: 0, dimensions: 512 });
    expect(full.encoder.dimensions).toBe(16);
    expect(full.report.varianceKept).toBe(1);
  });

  it("uses extra unlabelled text and works with a WordPiece vocabulary", async () => {
    const { report } = await distillStaticEncoder(new FakeTeacher(), texts.slice(0, 50), {
      vocabulary: tinyWordPieceVocabulary(),
      extraTexts: texts.slice(50, 200),
      epochs: 1,
    });
    expect(report.vocabulary).toBe("wordpiece");
    expect(report.trainTexts + report.heldOutTexts).toBe(new Set(texts.slice(0, 200)).size);
  });

  it("with pair rows, imitates a teacher for which word order matters better than tokens alone can", async () => {
    const teacher = new WordOrderTeacher();
    const tokensOnly = await distillStaticEncoder(teacher, texts, fitting);
    const withPairs = await distillStaticEncoder(teacher, texts, { ...fitting, bigramBuckets: 256 });
    expect(withPairs.encoder.vocabSize).toBe(tinyUnigramVocabulary().pieces.length + 256);
    expect(withPairs.report.heldOutCosineFitted as number).toBeGreaterThan((tokensOnly.report.heldOutCosineFitted as number) + 0.02);
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, d) => s + x * b[d], 0);
    const [ab, ba] = await withPairs.encoder.embed(["lost card", "card lost"]);
    expect(cos(ab, ba)).toBeLessThan(0.99);
    const [ab0, ba0] = await tokensOnly.encoder.embed(["lost card", "card lost"]);
    expect(cos(ab0, ba0)).toBeCloseTo(1, 5);
  });

  it("refits on a subset from an earlier result's basis without asking the teacher again", async () => {
    const teacher = new FakeTeacher();
    const first = await distillStaticEncoder(teacher, texts, fitting);
    const calls = teacher.calls;
    const refit = await distillStaticEncoder(teacher, texts.slice(0, 300), { ...fitting, basis: first.basis });
    expect(teacher.calls).toBe(calls);
    expect(refit.report.trainTexts + refit.report.heldOutTexts).toBe(new Set(texts.slice(0, 300)).size);
    expect(refit.report.heldOutCosineFitted as number).toBeGreaterThan((refit.report.heldOutCosineInit as number) + 0.2);
    await expect(distillStaticEncoder(teacher, ["a text the basis never saw"], { ...fitting, basis: first.basis })).rejects.toThrow(/basis has no teacher vector/);
  });

  it("embeds every vocabulary token text except special tokens", () => {
    const unigram = tokenTexts(tinyUnigramVocabulary());
    expect(unigram.slice(0, 3)).toEqual([null, null, null]);
    expect(unigram[3]).toBe("the");
    expect(unigram).toContain("ing");
    expect(unigram[tinyUnigramVocabulary().pieces.indexOf("\u2581")]).toBeNull();
    const wordpiece = tokenTexts(tinyWordPieceVocabulary());
    expect(wordpiece.slice(0, 2)).toEqual([null, null]);
    expect(wordpiece[6]).toBe("ffa");
  });

  it("rejects bad options with a clear error", async () => {
    await expect(distillStaticEncoder(new FakeTeacher(), texts, { vocabulary: tinyUnigramVocabulary(), heldOutFraction: 1 })).rejects.toThrow(/heldOutFraction/);
    await expect(distillStaticEncoder(new FakeTeacher(), texts, { vocabulary: tinyUnigramVocabulary(), epochs: -1 })).rejects.toThrow(/epochs/);
    await expect(distillStaticEncoder(new FakeTeacher(), texts, { vocabulary: tinyUnigramVocabulary(), dimensions: 0 })).rejects.toThrow(/dimensions/);
    const notText = [42] as unknown as string[];
    await expect(distillStaticEncoder(new FakeTeacher(), notText, { vocabulary: tinyUnigramVocabulary() })).rejects.toThrow(/not a string/);
  });
});
