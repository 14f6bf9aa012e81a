/**
 * Builds tiny BERT-shaped ONNX models and WordPiece tokenizers in code, so encoder tests run
 * without downloading anything. The ONNX protobuf is written with protobufjs from the subset
 * of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) that a small graph needs; field
 * numbers below are the ones in that schema.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { seededRandom } from "../../src/common/vector.js";

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: "int64", id: 1 },
            producer_name: { type: "string", id: 2 },
            graph: { type: "GraphProto", id: 7 },
            opset_import: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            op_type: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            i: { type: "int64", id: 3 },
            ints: { rule: "repeated", type: "int64", id: 8 },
            type: { type: "int32", id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            data_type: { type: "int32", id: 2 },
            name: { type: "string", id: 8 },
            raw_data: { type: "bytes", id: 9 },
          },
        },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 } } },
        TypeProto: {
          fields: { tensor_type: { type: "TensorTypeProto", id: 1 } },
        },
        // TypeProto.Tensor in onnx.proto; a nested message is the same bytes on the wire.
        TensorTypeProto: { fields: { elem_type: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } } },
        Dimension: {
          oneofs: { value: { oneof: ["dim_value", "dim_param"] } },
          fields: { dim_value: { type: "int64", id: 1 }, dim_param: { type: "string", id: 2 } },
        },
      },
    },
  },
};

const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType("onnx.ModelProto");

type Dim = number | string;
interface NodeSpec {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute?: { name: string; type: number; i?: number; ints?: number[] }[];
}
const valueInfo = (name: string, elemType: number, dims: Dim[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: elemType,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
    },
  },
});
const floatTensor = (name: string, dims: number[], values: Float32Array) => ({
  name,
  dims,
  data_type: FLOAT,
  raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
});
const int64Tensor = (name: string, values: bigint[]) => {
  const arr = BigInt64Array.from(values);
  return { name, dims: [values.length], data_type: INT64, raw_data: new Uint8Array(arr.buffer) };
};

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
  const hiddenBeforeTypes = options.tokenTypes ? "with_mask" : outputName;
  const nodes: NodeSpec[] = [
    { op_type: "Gather", input: ["word_embeddings", "input_ids"], output: ["words"], name: "gather_words" },
    { op_type: "Cast", input: ["attention_mask"], output: ["mask_f"], name: "cast_mask", attribute: [{ name: "to", type: ATTR_INT, i: FLOAT }] },
    { op_type: "Unsqueeze", input: ["mask_f", "last_axis"], output: ["mask_3d"], name: "unsqueeze_mask" },
    { op_type: "Mul", input: ["mask_3d", "mask_bias"], output: ["bias_on_tokens"], name: "mul_bias" },
    { op_type: "Add", input: ["words", "bias_on_tokens"], output: [hiddenBeforeTypes], name: "add_bias" },
  ];
  const initializer = [
    floatTensor("word_embeddings", [vocabSize, dim], flat(wordEmbeddings)),
    floatTensor("mask_bias", [dim], maskBias),
    int64Tensor("last_axis", [-1n]),
  ];
  const input = [valueInfo("input_ids", INT64, seq), valueInfo("attention_mask", INT64, seq)];
  if (options.tokenTypes) {
    nodes.push(
      { op_type: "Gather", input: ["type_embeddings", "token_type_ids"], output: ["types"], name: "gather_types" },
      { op_type: "Add", input: [hiddenBeforeTypes, "types"], output: [outputName], name: "add_types" },
    );
    initializer.push(floatTensor("type_embeddings", [2, dim], flat(typeEmbeddings)));
    input.push(valueInfo("token_type_ids", INT64, seq));
  }
  const output = [valueInfo(outputName, FLOAT, ["batch", "sequence", outDim])];
  if (options.pooledOutputFirst) {
    nodes.push({
      op_type: "ReduceMean",
      input: [outputName],
      output: ["pooled"],
      name: "pool",
      attribute: [
        { name: "axes", type: ATTR_INTS, ints: [1] },
        { name: "keepdims", type: ATTR_INT, i: 0 },
      ],
    });
    output.unshift(valueInfo("pooled", FLOAT, ["batch", outDim]));
  }

  const message = ModelProto.fromObject({
    ir_version: 8,
    producer_name: "triage-tests",
    opset_import: [{ domain: "", version: 14 }],
    graph: { name: "tiny_bert", node: nodes, initializer, input, output },
  });
  return { bytes: ModelProto.encode(message).finish(), wordEmbeddings, typeEmbeddings, maskBias };
}

/** Vocabulary of the tiny tokenizer: BERT special tokens at BERT-like positions, then a few words. */
export const TINY_VOCAB = [
  "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
  "hello", "world", "the", "cat", "sat", "on", "mat", "dog", "ran", "##s", "a", "!", ",", ".", "fast",
];

/** A tokenizer.json in the same shape as all-MiniLM-L6-v2's (BERT uncased WordPiece, [CLS] … [SEP]). */
export function tinyTokenizerJson(vocab: readonly string[] = TINY_VOCAB): object {
  const id = (t: string) => vocab.indexOf(t);
  const special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special.map((content) => ({
      id: id(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "[SEP]", type_id: 1 } },
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
