import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LEFTOVER_NAME, writeDirAtomic, type DirOwner } from "../common/atomic.js";
import { TriageError } from "../common/errors.js";
import { createTokenizer, type SubwordTokenizer, type TokenizerSpec } from "./tokenizers/subword.js";
import type { Encoder } from "./types.js";

/**
 * Distilled static encoder: subword tokens -> rows of a token-embedding table; the sentence vector is
 * bias + the weighted mean of its tokens' rows, L2-normalised. No matrix multiply, no attention: one query
 * costs a few thousand multiply-adds, so it runs in microseconds in plain JS (the cascade's fast stage).
 *
 * On disk (a directory owned by the encoder): `static.json` (header + vocabulary) and `static.bin`
 * (little-endian: per-row scales f32[V], token weights f32[V], bias f32[D], then the table: int8[D] per
 * row whose scale is not 0, in row order; versions 1 and 2 held every row, int8[V*D]). Rows training
 * never touched are all zero: with pair rows on a small training set that is most of them.
 */

export const STATIC_HEADER_FILE = "static.json";
export const STATIC_BINARY_FILE = "static.bin";
const FORMAT = "triage-static-encoder";
/** Version 2 added pair rows (`bigramBuckets`); version 3 leaves all-zero rows out of the table. */
const VERSION = 3;

/** Full-precision parameters, as distillation produces them. */
export interface StaticEncoderParameters {
  tokenizer: TokenizerSpec;
  dimensions: number;
  /** Row-major V x D token-embedding table. */
  table: Float32Array;
  /** Per-token weight in the mean (length V). */
  tokenWeights: Float32Array;
  /** Added to every sentence's weighted mean (length D): the direction the teacher shares across sentences. */
  bias: Float32Array;
  /** Rows after the vocabulary's for hashed pairs of adjacent tokens (0 or absent: none). */
  bigramBuckets?: number;
  teacher: { id: string; fingerprint: string };
  /** Free-form facts recorded in the header (e.g. the distillation report). */
  training?: Record<string, unknown>;
}

interface StaticHeader {
  format: typeof FORMAT;
  version: number;
  id: string;
  dimensions: number;
  vocabSize: number;
  quantization: "int8-row";
  /** Hashed adjacent-token rows after the vocabulary's (absent: none). vocabSize counts them. */
  bigramBuckets?: number;
  teacher: { id: string; fingerprint: string };
  tokenizer: TokenizerSpec;
  training?: Record<string, unknown>;
}

export class StaticEncoder implements Encoder {
  readonly id: string;
  readonly dimensions: number;
  readonly fingerprint: string;
  readonly vocabSize: number;
  private readonly tokenizer: SubwordTokenizer;
  /** Scratch accumulator reused across calls: embedOne copies out of it. */
  private readonly accumulator: Float32Array;
  private readonly scales: Float32Array;
  private readonly tokenWeights: Float32Array;
  private readonly bias: Float32Array;
  private readonly quantized: Int8Array;
  /** Where each row starts in `quantized` (rows with scale 0 are not stored: any value, never read). */
  private readonly offsets: Int32Array;

  private constructor(
    private readonly header: StaticHeader,
    private readonly binary: Uint8Array,
    where: string,
  ) {
    this.id = header.id;
    this.dimensions = header.dimensions;
    this.vocabSize = header.vocabSize;
    this.tokenizer = createTokenizer(header.tokenizer);
    this.accumulator = new Float32Array(header.dimensions);
    ({ scales: this.scales, tokenWeights: this.tokenWeights, bias: this.bias, quantized: this.quantized, offsets: this.offsets } = binaryViews(binary, header, where));
    this.fingerprint = fingerprintOf(serializeHeader(header), binary);
  }

  /** Quantises the table to int8 with one scale per row; the encoder then behaves exactly as after save + load. */
  static fromParameters(p: StaticEncoderParameters): StaticEncoder {
    const buckets = p.bigramBuckets ?? 0;
    const V = p.tokenizer.pieces.length + buckets;
    const D = p.dimensions;
    if (!Number.isInteger(D) || D <= 0) throw new TriageError(`static encoder: bad dimensions ${D}`, "E_STATIC_ENCODER");
    if (p.table.length !== V * D || p.tokenWeights.length !== V || p.bias.length !== D) {
      throw new TriageError(
        `static encoder: table ${p.table.length}, weights ${p.tokenWeights.length}, bias ${p.bias.length} do not fit vocabulary ${V} x ${D}`,
        "E_STATIC_ENCODER",
      );
    }
    const scales = new Float32Array(V);
    for (let r = 0; r < V; r++) {
      let max = 0;
      for (let d = 0; d < D; d++) max = Math.max(max, Math.abs(p.table[r * D + d]));
      scales[r] = max / 127;
    }
    const stored = scales.reduce((n, scale) => (scale !== 0 ? n + 1 : n), 0);
    const binary = new Uint8Array(4 * (2 * V + D) + stored * D);
    const floats = new Float32Array(binary.buffer, 0, 2 * V + D);
    floats.set(scales);
    floats.set(p.tokenWeights, V);
    floats.set(p.bias, 2 * V);
    const quantized = new Int8Array(binary.buffer, 4 * (2 * V + D));
    for (let r = 0, at = 0; r < V; r++) {
      if (scales[r] === 0) continue;
      for (let d = 0; d < D; d++) quantized[at++] = Math.round(p.table[r * D + d] / scales[r]);
    }
    const header: StaticHeader = {
      format: FORMAT,
      version: VERSION,
      id: `static:${p.teacher.id}`,
      dimensions: D,
      vocabSize: V,
      quantization: "int8-row",
      ...(buckets > 0 ? { bigramBuckets: buckets } : {}),
      teacher: p.teacher,
      tokenizer: p.tokenizer,
      ...(p.training ? { training: p.training } : {}),
    };
    return new StaticEncoder(header, binary, "parameters");
  }

  /** Loads a directory written by `saveStaticEncoder`. */
  static async load(dir: string): Promise<StaticEncoder> {
    const headerPath = join(dir, STATIC_HEADER_FILE);
    const binaryPath = join(dir, STATIC_BINARY_FILE);
    for (const p of [headerPath, binaryPath]) {
      if (!existsSync(p)) throw new TriageError(`static encoder: missing ${p}`, "E_STATIC_ENCODER");
    }
    const header = parseHeader(readFileSync(headerPath, "utf8"), headerPath);
    const file = readFileSync(binaryPath);
    const binary = new Uint8Array(file.byteLength); // own, aligned copy (Buffer pools may be unaligned for Float32Array views)
    binary.set(file);
    return new StaticEncoder(header, binary, binaryPath);
  }

  get teacher(): { id: string; fingerprint: string } {
    return { ...this.header.teacher };
  }

  get tokenizerSpec(): TokenizerSpec {
    return this.header.tokenizer;
  }

  /** What distillation recorded in the header, if anything. */
  get training(): Record<string, unknown> | undefined {
    return this.header.training;
  }

  /** Row ids of the text: its tokens, then its hashed adjacent pairs when the encoder has bigram rows. */
  tokenize(text: string): number[] {
    return staticIds(this.tokenizer.encode(text), this.header.tokenizer.pieces.length, this.header.bigramBuckets ?? 0);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous single-text embedding: the cascade's hot path. */
  embedOne(text: string): Float32Array {
    if (typeof text !== "string") throw new TriageError("static encoder: text must be a string", "E_STATIC_ENCODER");
    return this.embedTokens(this.tokenize(text));
  }

  /** Sentence vector of already-tokenised text (ids must be < vocabSize). */
  embedTokens(ids: readonly number[]): Float32Array {
    // Locals, not this.x, inside the loops: V8 then keeps the typed arrays in registers.
    const D = this.dimensions;
    const acc = this.accumulator;
    const q = this.quantized;
    const offsets = this.offsets;
    const scales = this.scales;
    const weights = this.tokenWeights;
    acc.set(this.bias);
    const n = ids.length;
    for (let k = 0; k < n; k++) {
      const row = ids[k];
      const c = (weights[row] * scales[row]) / n;
      if (c === 0) continue;
      for (let d = 0, off = offsets[row]; d < D; d++, off++) acc[d] += c * q[off];
    }
    let norm = 0;
    for (let d = 0; d < D; d++) norm += acc[d] * acc[d];
    const out = new Float32Array(D);
    if (norm === 0) {
      out[0] = 1; // nothing to go on (e.g. empty text with a zero bias): still a unit vector, as Encoder promises
      return out;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < D; d++) out[d] = acc[d] * inv;
    return out;
  }

  /** Dequantised copy of the parameters (for continued training or inspection). */
  parameters(): StaticEncoderParameters {
    const V = this.vocabSize;
    const D = this.dimensions;
    const table = new Float32Array(V * D);
    for (let r = 0; r < V; r++) {
      if (this.scales[r] === 0) continue;
      for (let d = 0; d < D; d++) table[r * D + d] = this.scales[r] * this.quantized[this.offsets[r] + d];
    }
    return {
      tokenizer: this.header.tokenizer,
      dimensions: D,
      table,
      tokenWeights: Float32Array.from(this.tokenWeights),
      bias: Float32Array.from(this.bias),
      ...(this.header.bigramBuckets ? { bigramBuckets: this.header.bigramBuckets } : {}),
      teacher: this.teacher,
      ...(this.header.training ? { training: this.header.training } : {}),
    };
  }

  /** Exact bytes of the two files, as `saveStaticEncoder` writes them. */
  serialize(): { header: string; binary: Uint8Array } {
    return { header: serializeHeader(this.header), binary: this.binary };
  }
}

/**
 * A directory `saveStaticEncoder` may replace: it holds the two encoder files and nothing else (apart
 * from leftovers of a killed write), and its header names the format. A folder holding anything
 * else is the user's and is refused.
 */
export const staticEncoderOwner: DirOwner = {
  what: "a static encoder",
  refuse(dir) {
    for (const name of readdirSync(dir)) {
      if (LEFTOVER_NAME.test(name)) continue;
      if (name !== STATIC_HEADER_FILE && name !== STATIC_BINARY_FILE) return `it also holds ${name}`;
      if (!lstatSync(join(dir, name)).isFile()) return `${name} is not a file`;
    }
    try {
      // Any version of the format: it is still triage's own file.
      if ((JSON.parse(readFileSync(join(dir, STATIC_HEADER_FILE), "utf8")) as { format?: unknown } | null)?.format === FORMAT) return undefined;
    } catch {
      // not JSON, or missing: not ours
    }
    return `no ${FORMAT} header in ${STATIC_HEADER_FILE}`;
  },
};

/**
 * Writes the encoder into `dir` (created, or replaced whole and atomically when it holds an earlier
 * static encoder: see staticEncoderOwner). Returns the fingerprint, which `StaticEncoder.load(dir)` reproduces.
 */
export async function saveStaticEncoder(encoder: StaticEncoder, dir: string): Promise<string> {
  const { header, binary } = encoder.serialize();
  await writeDirAtomic(dir, staticEncoderOwner, (tmp) => {
    writeFileSync(join(tmp, STATIC_HEADER_FILE), header);
    writeFileSync(join(tmp, STATIC_BINARY_FILE), binary);
  });
  return encoder.fingerprint;
}

/**
 * Token ids followed by one row per adjacent pair, V + hash(a, b) mod buckets: the mean of token rows alone
 * cannot tell "not good" from "good", nor word order; pair rows give the distilled encoder that much.
 */
export function staticIds(tokens: readonly number[], vocabulary: number, buckets: number): number[] {
  if (buckets <= 0 || tokens.length < 2) return tokens as number[];
  const out = tokens.slice();
  for (let k = 0; k + 1 < tokens.length; k++) out.push(vocabulary + (((Math.imul(tokens[k] + 1, 0x9e3779b1) ^ Math.imul(tokens[k + 1] + 1, 0x85ebca77)) >>> 0) % buckets));
  return out;
}

/**
 * The parts of `static.bin` as views into it, each row's offset into the table, and the checks that the
 * file holds what its header says: its size, and no NaN or infinity (which would make every sentence
 * vector NaN; the int8 table itself cannot hold one).
 */
function binaryViews(binary: Uint8Array, header: StaticHeader, where: string) {
  const { vocabSize: V, dimensions: D } = header;
  const wrongSize = (expected: number) => new TriageError(`static encoder: ${where} has ${binary.byteLength} bytes, header implies ${expected}`, "E_STATIC_ENCODER");
  const tableStart = 4 * (2 * V + D);
  if (binary.byteLength < tableStart) throw wrongSize(tableStart + (header.version < 3 ? V * D : 0));
  const buf = binary.buffer;
  const base = binary.byteOffset;
  const scales = new Float32Array(buf, base, V);
  const tokenWeights = new Float32Array(buf, base + 4 * V, V);
  const bias = new Float32Array(buf, base + 8 * V, D);
  for (const [what, values] of [
    ["row scales", scales],
    ["token weights", tokenWeights],
    ["bias", bias],
  ] as const)
    for (let i = 0; i < values.length; i++)
      if (!Number.isFinite(values[i])) throw new TriageError(`${where}: holds a non-finite value in its ${what} (${values[i]} at ${i}); the file is corrupt`, "E_STATIC_ENCODER");
  // Versions 1 and 2 store every row; 3 only those with a scale.
  const offsets = new Int32Array(V);
  let stored = 0;
  for (let r = 0; r < V; r++) {
    if (header.version < 3) offsets[r] = r * D;
    else if (scales[r] !== 0) offsets[r] = stored++ * D;
  }
  if (header.version < 3) stored = V;
  const expected = tableStart + stored * D;
  if (binary.byteLength !== expected) throw wrongSize(expected);
  return { scales, tokenWeights, bias, quantized: new Int8Array(buf, base + tableStart, stored * D), offsets };
}

function serializeHeader(h: StaticHeader): string {
  return JSON.stringify(h);
}

/** Same scheme as sha256Files (file name, then bytes, per file), so in-memory and on-disk fingerprints agree. */
function fingerprintOf(header: string, binary: Uint8Array): string {
  return createHash("sha256").update(STATIC_HEADER_FILE).update(header).update(STATIC_BINARY_FILE).update(binary).digest("hex");
}

function parseHeader(text: string, path: string): StaticHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TriageError(`static encoder: ${path} is not JSON: ${(err as Error).message}`, "E_STATIC_ENCODER");
  }
  const h = raw as Partial<StaticHeader>;
  if (h?.format !== FORMAT) throw new TriageError(`static encoder: ${path} is not a ${FORMAT} header`, "E_STATIC_ENCODER");
  if (h.version !== 1 && h.version !== 2 && h.version !== VERSION)
    throw new TriageError(`static encoder: ${path} has version ${h.version}, this build reads 1 to ${VERSION}`, "E_STATIC_ENCODER");
  const ok =
    typeof h.id === "string" &&
    Number.isInteger(h.dimensions) &&
    (h.dimensions as number) > 0 &&
    Number.isInteger(h.vocabSize) &&
    h.quantization === "int8-row" &&
    typeof h.teacher?.id === "string" &&
    typeof h.teacher?.fingerprint === "string" &&
    (h.bigramBuckets === undefined || (h.version >= 2 && Number.isInteger(h.bigramBuckets) && h.bigramBuckets > 0)) &&
    Array.isArray(h.tokenizer?.pieces) &&
    h.tokenizer.pieces.length + (h.bigramBuckets ?? 0) === h.vocabSize;
  if (!ok) throw new TriageError(`static encoder: ${path} is missing or has malformed fields`, "E_STATIC_ENCODER");
  return h as StaticHeader;
}
