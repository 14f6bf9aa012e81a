import protobuf from "protobufjs";

/**
 * Writes ONNX models in code. The schema is the subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto)
 * that a plain inference graph needs; field numbers are the ones in that file, so onnxruntime reads the
 * bytes as any exported model. Used to run the npm-shipped USE weights on onnxruntime and by the tests'
 * tiny models.
 */
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
            f: { type: "float", id: 2 },
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
        TypeProto: { fields: { tensor_type: { type: "TensorTypeProto", id: 1 } } },
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

const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelProto = root.lookupType("onnx.ModelProto");
const GraphProto = root.lookupType("onnx.GraphProto");
const TensorProto = root.lookupType("onnx.TensorProto");

/** Field numbers the assembly below writes itself. */
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const LENGTH_DELIMITED = 2;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field's tag and length, before its `length` bytes. */
const fieldHeader = (field: number, length: number) => Uint8Array.from([...varint((field << 3) | LENGTH_DELIMITED), ...varint(length)]);

/** TensorProto.DataType values. */
export const FLOAT = 1;
export const INT64 = 7;

/** An attribute: an int, a float or a list of ints (all a plain graph needs). */
export type Attribute = number | { float: number } | number[];
/** A symbolic (named) or fixed dimension. */
export type Dim = number | string;

interface AttributeMessage {
  name: string;
  type: number;
  i?: number;
  f?: number;
  ints?: number[];
}
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

function attributeMessage(name: string, value: Attribute): AttributeMessage {
  if (Array.isArray(value)) return { name, type: ATTR_INTS, ints: value };
  if (typeof value === "number") return { name, type: ATTR_INT, i: value };
  return { name, type: ATTR_FLOAT, f: value.float };
}

const valueInfo = (name: string, elemType: number, dims: readonly Dim[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: elemType,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
    },
  },
});

const bytesOf = (a: Float32Array | BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Accumulates nodes and weights; each op returns the names of its outputs so graphs read like code. */
export class OnnxGraphBuilder {
  private readonly nodes: object[] = [];
  /** Each initializer without its weights, and the weights (written after it, as its raw_data field). */
  private readonly initializers: { head: object; raw: Uint8Array }[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private count = 0;

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Adds a node with `outputs` fresh outputs (or the given names) and returns their names. */
  op(type: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}, outputs: number | string[] = 1): string[] {
    const name = `${type}_${this.count++}`;
    const output = typeof outputs === "number" ? Array.from({ length: outputs }, (_, k) => `${name}:${k}`) : outputs;
    const attribute = Object.entries(attributes).map(([k, v]) => attributeMessage(k, v));
    this.nodes.push({ op_type: type, name, input: [...inputs], output, attribute });
    return output;
  }

  /** A node with one output. */
  node(type: string, inputs: readonly string[], attributes?: Record<string, Attribute>): string {
    return this.op(type, inputs, attributes)[0];
  }

  floats(name: string, dims: readonly number[], values: Float32Array): string {
    this.initializers.push({ head: { name, dims, data_type: FLOAT }, raw: bytesOf(values) });
    return name;
  }

  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  int64s(name: string, values: readonly (number | bigint)[]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ head: { name, dims: [values.length], data_type: INT64 }, raw: bytesOf(data) });
    return name;
  }

  /**
   * Serialised ModelProto, ready for `InferenceSession.create(bytes)` or a .onnx file. protobufjs writes the
   * small parts; the weights are copied once, straight into the result (through protobufjs they were copied
   * three times, a good part of USE-Lite's start-up). Protobuf allows a message's fields in any order and a
   * repeated field's entries apart, so appended fields read as if protobufjs had written them.
   */
  encode(options: { name: string; opset: number; producer?: string }): Uint8Array {
    const parts: Uint8Array[] = [];
    let graphLength = 0;
    const add = (bytes: Uint8Array) => {
      parts.push(bytes);
      graphLength += bytes.length;
    };
    add(GraphProto.encode(GraphProto.fromObject({ name: options.name, node: this.nodes, input: this.inputs, output: this.outputs })).finish());
    for (const { head, raw } of this.initializers) {
      const tensor = TensorProto.encode(TensorProto.fromObject(head)).finish();
      const rawHeader = fieldHeader(TENSOR_RAW_DATA, raw.length);
      add(fieldHeader(GRAPH_INITIALIZER, tensor.length + rawHeader.length + raw.length));
      add(tensor);
      add(rawHeader);
      add(raw);
    }
    const model = ModelProto.encode(
      ModelProto.fromObject({ ir_version: 8, producer_name: options.producer ?? "triage", opset_import: [{ domain: "", version: options.opset }] }),
    ).finish();
    const graphHeader = fieldHeader(MODEL_GRAPH, graphLength);
    const out = new Uint8Array(model.length + graphHeader.length + graphLength);
    out.set(model, 0);
    out.set(graphHeader, model.length);
    let offset = model.length + graphHeader.length;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}
