import { rmSync, writeFileSync, mkdirSync, realpathSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { OnnxEncoder, findOnnxModel, meanPoolNormalized } from "../../../src/encoders/onnx/encoder.js";
import { DEFAULT_ONNX_MODEL_DIR, LEGACY_ONNX_MODEL_DIR, findDefaultOnnxModel } from "../../../src/encoders/onnx/files.js";
import { sha256Files } from "../../../src/common/hash.js";
import { TINY_VOCAB, writeTinyModelDir, type TinyModel } from "../../helpers/tiny-onnx.js";
import { tempDir } from "../../helpers/temp.js";

const root = tempDir("triage-onnx-");
let n = 0;
const freshDir = (name = "tiny-bert") => join(root, String(n++), name);
const open: OnnxEncoder[] = [];
async function load(dir: string, options?: Parameters<typeof OnnxEncoder.load>[1]): Promise<OnnxEncoder> {
  const enc = await OnnxEncoder.load(dir, { threads: 1, ...options });
  open.push(enc);
  return enc;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const id = (token: string) => {
  const i = TINY_VOCAB.indexOf(token);
  if (i < 0) throw new Error(`not in tiny vocab: ${token}`);
  return i;
};

/** What the encoder should return, computed from the weights: mean of the real tokens' rows, unit length. */
function expected(model: TinyModel, tokens: string[]): Float32Array {
  const dim = model.maskBias.length;
  const sum = new Float64Array(dim);
  for (const t of tokens) {
    for (let k = 0; k < dim; k++) sum[k] += model.wordEmbeddings[id(t)][k] + model.maskBias[k] + model.typeEmbeddings[0][k];
  }
  const mean = sum.map((x) => x / tokens.length);
  const norm = Math.hypot(...mean);
  return Float32Array.from(mean, (x) => x / norm);
}

function expectClose(actual: Float32Array, want: Float32Array) {
  expect(actual.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) expect(actual[k]).toBeCloseTo(want[k], 5);
}

describe("OnnxEncoder on a tiny BERT-shaped graph", () => {
  it("tokenises, runs the graph and mean-pools the real tokens into a unit vector", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir);
    const enc = await load(dir);
    expect(enc.id).toBe("onnx:tiny-bert");
    expect(enc.dimensions).toBe(8);

    const [v] = await enc.embed(["Hello, World!"]);
    expectClose(v, expected(model, ["[CLS]", "hello", ",", "world", "!", "[SEP]"]));
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
  });

  it("gives a sentence the same vector alone and padded in a batch with a longer one", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir);
    const enc = await load(dir);
    const [alone] = await enc.embed(["the cat"]);
    const batch = await enc.embed(["the cat sat on the mat , the dog ran fast", "the cat", "hello"]);
    expectClose(batch[1], alone);
    expectClose(batch[1], expected(model, ["[CLS]", "the", "cat", "[SEP]"]));
    expectClose(batch[0], expected(model, ["[CLS]", ..."the cat sat on the mat , the dog ran fast".split(" "), "[SEP]"]));
    expectClose(batch[2], expected(model, ["[CLS]", "hello", "[SEP]"]));
  });

  it("keeps input order across batches of different lengths and reports progress per batch", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir);
    const enc = await load(dir, { batchSize: 2 });
    const texts = ["the dog ran fast", "a", "cats", "hello world !", "mat"];
    const steps: number[] = [];
    const out = await enc.embed(texts, (done) => steps.push(done));
    expect(steps).toEqual([2, 2, 1]);
    expectClose(out[0], expected(model, ["[CLS]", "the", "dog", "ran", "fast", "[SEP]"]));
    expectClose(out[1], expected(model, ["[CLS]", "a", "[SEP]"]));
    expectClose(out[2], expected(model, ["[CLS]", "cat", "##s", "[SEP]"]));
    expectClose(out[3], expected(model, ["[CLS]", "hello", "world", "!", "[SEP]"]));
    expectClose(out[4], expected(model, ["[CLS]", "mat", "[SEP]"]));
  });

  it("maps unknown words to [UNK] and embeds the empty string as [CLS] [SEP]", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir);
    const enc = await load(dir);
    const [unk, empty] = await enc.embed(["zebra", ""]);
    expectClose(unk, expected(model, ["[CLS]", "[UNK]", "[SEP]"]));
    expectClose(empty, expected(model, ["[CLS]", "[SEP]"]));
  });

  it("truncates at maxLength keeping the closing [SEP]", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir);
    const enc = await load(dir, { maxLength: 4 });
    const [v] = await enc.embed(["the cat sat on the mat"]);
    expectClose(v, expected(model, ["[CLS]", "the", "cat", "[SEP]"]));
  });

  it("never uses more tokens than config.json's max_position_embeddings", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir, { config: { hidden_size: 8, max_position_embeddings: 3 } });
    const enc = await load(dir, { maxLength: 256 });
    const [v] = await enc.embed(["dog cat mat"]);
    expectClose(v, expected(model, ["[CLS]", "dog", "[SEP]"]));
  });

  it("feeds only the inputs the graph declares (no token_type_ids)", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir, { tokenTypes: false });
    const enc = await load(dir);
    const [v] = await enc.embed(["the dog ran"]);
    expectClose(v, expected(model, ["[CLS]", "the", "dog", "ran", "[SEP]"]));
  });

  it("adds token type embeddings when the graph has token_type_ids", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir, { tokenTypes: true });
    const enc = await load(dir);
    const [v] = await enc.embed(["dog"]);
    // The type-0 row shifts every token; if it were not fed the vector would differ.
    expectClose(v, expected(model, ["[CLS]", "dog", "[SEP]"]));
    const withoutTypes = { ...model, typeEmbeddings: [new Float32Array(8), new Float32Array(8)] };
    expect(Math.abs(v[0] - expected(withoutTypes, ["[CLS]", "dog", "[SEP]"])[0])).toBeGreaterThan(1e-3);
  });

  it("takes the first [batch, seq, dim] output when another output comes first, and reads dim from config when symbolic", async () => {
    const dir = freshDir();
    const model = writeTinyModelDir(dir, {
      outputName: "token_states",
      pooledOutputFirst: true,
      symbolicDim: true,
      config: { hidden_size: 8 },
    });
    const enc = await load(dir);
    expect(enc.dimensions).toBe(8);
    const [v] = await enc.embed(["hello world"]);
    expectClose(v, expected(model, ["[CLS]", "hello", "world", "[SEP]"]));
  });

  it("prefers onnx/model_quantized.onnx, or model.onnx when asked for fp32", async () => {
    const dir = freshDir();
    writeTinyModelDir(dir, { file: "model_quantized.onnx", seed: 1 });
    const fp32 = writeTinyModelDir(join(root, "fp32-src"), { seed: 2 });
    writeFileSync(join(dir, "onnx", "model.onnx"), fp32.bytes);

    const q = await load(dir);
    expect(q.modelPath).toBe(join(dir, "onnx", "model_quantized.onnx"));
    const f = await load(dir, { quantized: false });
    expect(f.modelPath).toBe(join(dir, "onnx", "model.onnx"));
    expectClose((await f.embed(["cat"]))[0], expected(fp32, ["[CLS]", "cat", "[SEP]"]));
    expect(q.fingerprint).not.toBe(f.fingerprint);
  });

  it("fingerprints tokenizer.json + the model file", async () => {
    const dir = freshDir();
    writeTinyModelDir(dir);
    const enc = await load(dir);
    expect(enc.fingerprint).toBe(sha256Files([join(dir, "tokenizer.json"), join(dir, "onnx", "model.onnx")]));
    expect(enc.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("OnnxEncoder errors and findOnnxModel", () => {
  it("names the missing directory, tokenizer or model file and suggests the pull command", async () => {
    const missing = freshDir();
    await expect(OnnxEncoder.load(missing)).rejects.toThrow(new RegExp(`ONNX model directory not found: ${missing}.*triage model pull all-MiniLM-L6-v2`));

    const noTokenizer = freshDir();
    writeTinyModelDir(noTokenizer);
    rmSync(join(noTokenizer, "tokenizer.json"));
    await expect(OnnxEncoder.load(noTokenizer)).rejects.toThrow(/tokenizer file not found: .*tokenizer\.json.*triage model pull/);

    const noModel = freshDir();
    writeTinyModelDir(noModel);
    rmSync(join(noModel, "onnx", "model.onnx"));
    await expect(OnnxEncoder.load(noModel)).rejects.toThrow(/ONNX model file not found: .*model_quantized\.onnx or .*model\.onnx.*triage model pull/);

    const onlyFp32 = freshDir();
    writeTinyModelDir(onlyFp32);
    await expect(OnnxEncoder.load(onlyFp32, { quantized: true })).rejects.toThrow(/model_quantized\.onnx.*triage model pull all-MiniLM-L6-v2/);
  });

  it("rejects a file that is not an ONNX model, saying which file", async () => {
    const dir = freshDir();
    writeTinyModelDir(dir);
    writeFileSync(join(dir, "onnx", "model.onnx"), "not a model");
    await expect(OnnxEncoder.load(dir)).rejects.toThrow(/cannot load ONNX model .*onnx\/model\.onnx/);
  });

  it("findOnnxModel returns the directory only when the tokenizer and a model file are there", () => {
    const dir = freshDir();
    expect(findOnnxModel(dir)).toBeNull();
    writeTinyModelDir(dir, { file: "model_quantized.onnx" });
    expect(findOnnxModel(dir)).toBe(dir);
    renameSync(join(dir, "tokenizer.json"), join(dir, "tokenizer.bak"));
    expect(findOnnxModel(dir)).toBeNull();
    mkdirSync(join(dir, "empty"), { recursive: true });
    expect(findOnnxModel(join(dir, "empty"))).toBeNull();
  });
});

describe("findDefaultOnnxModel", () => {
  it("finds the pull's folder in the library's cache layout first, else one an earlier triage pulled", () => {
    const cwd = process.cwd();
    const made = freshDir("project");
    mkdirSync(made, { recursive: true });
    const project = realpathSync(made); // what process.cwd() reports when tmpdir is a symlink
    process.chdir(project);
    try {
      expect(DEFAULT_ONNX_MODEL_DIR).toBe(join("models", "encoders", "Xenova", "all-MiniLM-L6-v2", "751bff37182d3f1213fa05d7196b954e230abad9"));
      expect(findDefaultOnnxModel()).toBeNull();
      writeTinyModelDir(join(project, LEGACY_ONNX_MODEL_DIR), { file: "model_quantized.onnx" });
      expect(findDefaultOnnxModel()).toBe(join(project, LEGACY_ONNX_MODEL_DIR));
      writeTinyModelDir(join(project, DEFAULT_ONNX_MODEL_DIR), { file: "model_quantized.onnx" });
      expect(findDefaultOnnxModel()).toBe(join(project, DEFAULT_ONNX_MODEL_DIR));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("meanPoolNormalized", () => {
  it("averages only unmasked positions of each row", () => {
    // batch 2, seq 3, dim 2
    const hidden = Float32Array.from([3, 0, 0, 4, 100, 100, 1, 1, 9, -9, 5, 5]);
    const mask = BigInt64Array.from([1n, 1n, 0n, 1n, 0n, 0n]);
    const [a, b] = meanPoolNormalized(hidden, mask, 2, 3, 2);
    expectClose(a, Float32Array.from([0.6, 0.8]));
    expectClose(b, Float32Array.from([Math.SQRT1_2, Math.SQRT1_2]));
  });
});
