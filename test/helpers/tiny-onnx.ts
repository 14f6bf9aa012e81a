/**
 * Builds tiny BERT-shaped ONNX models and WordPiece tokenizers in code, so encoder tests run
 * without downloading anything.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../../src/common/random.js";
import { FLOAT, INT64, OnnxGraphBuilder, type Dim } from "../../src/encoders/onnx/proto.js";

export interface TinyModelOptions {
  vocabSize: number;
  dim: number;
  /** Declare and use a token_type_ids input (BERT has it; some exports drop it). */
  tokenTypes?: boolean;
  /** Name of the [batch, seq, dim] output. */
  outputName?: string;
  /** Put a [batch, dim] mean-pooled output before the token output, as some exports do. */
  pooledOutputFirst?: boolean;
  /** Declare the output's last dim symbolically instead of as a number. */
  symbolicDim?: boolean;
  seed?: number;
}

/** The weights of a tiny model, to compute expected embeddings independently of the encoder. */
export interface TinyModel {
  bytes: Uint8Array;
  /** [vocabSize][dim] */
  wordEmbeddings: Float32Array[];
  /** [2][dim], zero rows when the model has no token types */
  typeEmbeddings: Float32Array[];
  /** Added to every token whose attention_mask is 1, so the graph really reads the mask. */
  maskBias: Float32Array;
}

/**
 * hidden[b, t] = word[input_ids[b, t]] + attention_mask[b, t] * maskBias (+ type[token_type_ids[b, t]]).
 * Padding rows are deliberately not zero, so pooling that ignores the mask gives a different vector.
 */
export function buildTinyModel(options: TinyModelOptions): TinyModel {
  const { vocabSize, dim } = options;
  const outputName = options.outputName ?? "last_hidden_state";
  const random = seededRandom(options.seed ?? 7);
  const row = () => Float32Array.from({ length: dim }, () => random() * 2 - 1);
  const wordEmbeddings = Array.from({ length: vocabSize }, row);
  const typeEmbeddings = options.tokenTypes ? [row(), row()] : [new Float32Array(dim), new Float32Array(dim)];
  const maskBias = row();
  const flat = (rows: Float32Array[]) => {
    const out = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => out.set(r, i * dim));
    return out;
  };

  const seq: Dim[] = ["batch", "sequence"];
  const outDim: Dim = options.symbolicDim ? "hidden" : dim;
  const g = new OnnxGraphBuilder();
  g.input("input_ids", INT64, seq);
  g.input("attention_mask", INT64, seq);
  if (options.tokenTypes) g.input("token_type_ids", INT64, seq);
  if (options.pooledOutputFirst) g.output("pooled", FLOAT, ["batch", outDim]);
  g.output(outputName, FLOAT, ["batch", "sequence", outDim]);

  const words = g.node("Gather", [g.floats("word_embeddings", [vocabSize, dim], flat(wordEmbeddings)), "input_ids"]);
  const mask3d = g.node("Unsqueeze", [g.node("Cast", ["attention_mask"], { to: FLOAT }), g.int64s("last_axis", [-1])]);
  const biasOnTokens = g.node("Mul", [mask3d, g.floats("mask_bias", [dim], maskBias)]);
  if (options.tokenTypes) {
    const types = g.node("Gather", [g.floats("type_embeddings", [2, dim], flat(typeEmbeddings)), "token_type_ids"]);
    g.op("Add", [g.node("Add", [words, biasOnTokens]), types], {}, [outputName]);
  } else {
    g.op("Add", [words, biasOnTokens], {}, [outputName]);
  }
  if (options.pooledOutputFirst) g.op("ReduceMean", [outputName], { axes: [1], keepdims: 0 }, ["pooled"]);

  const bytes = g.encode({ name: "tiny_bert", opset: 14, producer: "triage-tests" });
  return { bytes, wordEmbeddings, typeEmbeddings, maskBias };
}

/** Vocabulary of the tiny tokenizer: BERT special tokens at BERT-like positions, then a few words. */
export const TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "cat", "sat", "on", "mat", "dog", "ran", "##s", "a", "!", ",", ".", "fast"];

/** A tokenizer.json in the same shape as all-MiniLM-L6-v2's (BERT uncased WordPiece, [CLS] … [SEP]). */
export function tinyTokenizerJson(vocab: readonly string[] = TINY_VOCAB): object {
  const id = (t: string) => vocab.indexOf(t);
  const special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [id("[CLS]")], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [id("[SEP]")], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

export interface TinyModelDirOptions extends Partial<TinyModelOptions> {
  /** Which file name the model is written as. */
  file?: "model.onnx" | "model_quantized.onnx";
  /** Write config.json with this hidden_size (and max_position_embeddings). */
  config?: { hidden_size: number; max_position_embeddings?: number };
}

/** Writes a Hugging Face style model directory (tokenizer.json, tokenizer_config.json, onnx/…) and returns its weights. */
export function writeTinyModelDir(dir: string, options: TinyModelDirOptions = {}): TinyModel {
  const model = buildTinyModel({ vocabSize: TINY_VOCAB.length, dim: 8, tokenTypes: true, ...options });
  mkdirSync(join(dir, "onnx"), { recursive: true });
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ do_lower_case: true, model_max_length: 512 }));
  if (options.config) writeFileSync(join(dir, "config.json"), JSON.stringify(options.config));
  writeFileSync(join(dir, "onnx", options.file ?? "model.onnx"), model.bytes);
  return model;
}
