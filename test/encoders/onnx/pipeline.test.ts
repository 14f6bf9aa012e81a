/**
 * PipelineEncoder: MiniLM's folder layout run through @huggingface/transformers' feature-extraction
 * pipeline, offline (a local folder, remote loading disabled), checked against the tiny model's own
 * weights and against OnnxEncoder on the same files.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { env } from "@huggingface/transformers";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { OnnxEncoder } from "../../../src/encoders/onnx/encoder.js";
import { PipelineEncoder } from "../../../src/encoders/onnx/pipeline.js";
import type { Encoder } from "../../../src/encoders/types.js";
import { TINY_VOCAB, writeTinyModelDir, type TinyModel } from "../../helpers/tiny-onnx.js";
import { tempDir } from "../../helpers/temp.js";

const root = tempDir("triage-onnx-pipeline-");
let n = 0;
const open: Encoder[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close?.()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny model folder with what the library also needs: config.json with model_type, and the special tokens named. */
function modelDir(options: Parameters<typeof writeTinyModelDir>[1] = {}): { dir: string; model: TinyModel } {
  const dir = join(root, String(n++), "tiny-bert");
  const model = writeTinyModelDir(dir, { config: { hidden_size: 8, max_position_embeddings: 512 }, ...options });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "bert", hidden_size: 8, max_position_embeddings: 512 }));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      do_lower_case: true,
      model_max_length: 512,
      tokenizer_class: "BertTokenizer",
      pad_token: "[PAD]",
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
    }),
  );
  return { dir, model };
}

async function track<T extends Encoder>(p: Promise<T>): Promise<T> {
  const e = await p;
  open.push(e);
  return e;
}

const id = (token: string) => TINY_VOCAB.indexOf(token);

/** Mean of the tokens' rows (word + mask bias + type 0), unit length: what any correct MiniLM-style pooling returns. */
function expected(model: TinyModel, tokens: string[]): Float32Array {
  const dim = model.maskBias.length;
  const sum = new Float64Array(dim);
  for (const t of tokens) for (let k = 0; k < dim; k++) sum[k] += model.wordEmbeddings[id(t)][k] + model.maskBias[k] + model.typeEmbeddings[0][k];
  const norm = Math.hypot(...sum);
  return Float32Array.from(sum, (x) => x / norm);
}

function expectClose(actual: Float32Array, want: Float32Array) {
  expect(actual.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) expect(actual[k]).toBeCloseTo(want[k], 5);
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k], 0);

describe("PipelineEncoder offline (local folder, remote loading disabled)", () => {
  it("loads without the network, mean-pools and normalises like the model's own weights say, and restores the library's settings", async () => {
    const { dir, model } = modelDir();
    const remoteBefore = env.allowRemoteModels;
    const fetchBefore = env.fetch;
    const enc = await track(PipelineEncoder.load(dir, { threads: 1 }));
    expect(env.allowRemoteModels).toBe(remoteBefore);
    expect(env.fetch).toBe(fetchBefore);

    expect(enc.id).toBe("onnx:tiny-bert");
    expect(enc.dimensions).toBe(8);
    const [hello, padded] = await enc.embed(["Hello, World!", "the cat"]);
    expectClose(hello, expected(model, ["[CLS]", "hello", ",", "world", "!", "[SEP]"]));
    expectClose(padded, expected(model, ["[CLS]", "the", "cat", "[SEP]"]));
    expect(Math.hypot(...hello)).toBeCloseTo(1, 6);
  });

  it("gives OnnxEncoder's vectors (cosine > 0.9999) and the same id and fingerprint for the same files", async () => {
    const { dir } = modelDir({ file: "model_quantized.onnx" });
    const lib = await track(PipelineEncoder.load(dir, { threads: 1 }));
    const direct = await track(OnnxEncoder.load(dir, { threads: 1 }));
    expect(lib.modelPath).toBe(direct.modelPath);
    expect([lib.id, lib.fingerprint, lib.dimensions]).toEqual([direct.id, direct.fingerprint, direct.dimensions]);
    const texts = ["the dog ran fast", "a", "zebra", "", "cats !", "hello world . the mat"];
    const [a, b] = [await lib.embed(texts), await direct.embed(texts)];
    texts.forEach((_, i) => expect(cosine(a[i], b[i])).toBeGreaterThan(0.9999));
  });

  it("keeps input order across length-sorted batches and reports progress per batch", async () => {
    const { dir, model } = modelDir();
    const enc = await track(PipelineEncoder.load(dir, { threads: 1, batchSize: 2 }));
    const steps: number[] = [];
    const out = await enc.embed(["the dog ran fast", "a", "mat", "hello world !"], (d) => steps.push(d));
    expect(steps).toEqual([2, 2]);
    expectClose(out[0], expected(model, ["[CLS]", "the", "dog", "ran", "fast", "[SEP]"]));
    expectClose(out[1], expected(model, ["[CLS]", "a", "[SEP]"]));
    expectClose(out[3], expected(model, ["[CLS]", "hello", "world", "!", "[SEP]"]));
  });

  it("truncates at maxLength, as OnnxEncoder does, but cuts the closing [SEP] where OnnxEncoder keeps it", async () => {
    const { dir } = modelDir();
    const enc = await track(PipelineEncoder.load(dir, { threads: 1, maxLength: 4 }));
    // The library truncates after adding special tokens, so the tail ([SEP]) goes; HF tokenizers and OnnxEncoder keep it.
    expect(enc.tokenIds("the cat sat on the mat")).toEqual(["[CLS]", "the", "cat", "sat"].map(id));
    expect(enc.tokenIds("the cat")).toEqual(["[CLS]", "the", "cat", "[SEP]"].map(id));
  });

  it("names the file a folder lacks instead of downloading it: config.json's model_type, tokenizer_config.json, the model", async () => {
    const { dir } = modelDir();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ hidden_size: 8 }));
    await expect(PipelineEncoder.load(dir)).rejects.toThrow(`${join(dir, "config.json")} is missing or has no model_type`);

    const { dir: noTokenizerConfig } = modelDir();
    rmSync(join(noTokenizerConfig, "tokenizer_config.json"));
    await expect(PipelineEncoder.load(noTokenizerConfig)).rejects.toThrow(
      `tokenizer file not found: ${join(noTokenizerConfig, "tokenizer_config.json")} (@huggingface/transformers needs it); run \`triage model pull`,
    );

    const { dir: noModel } = modelDir();
    rmSync(join(noModel, "onnx", "model.onnx"));
    await expect(PipelineEncoder.load(noModel)).rejects.toThrow(/ONNX model file not found: .*triage model pull/);
  });
});
