import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Files } from "../../src/common/hash.js";
import { TriageError } from "../../src/common/errors.js";
import { STATIC_BINARY_FILE, STATIC_HEADER_FILE, StaticEncoder, saveStaticEncoder, staticIds, type StaticEncoderParameters } from "../../src/encoders/static.js";
import { seededRandom } from "../../src/common/random.js";
import type { TokenizerSpec } from "../../src/encoders/tokenizers/subword.js";
import { DIM, tinyUnigramVocabulary, tinyWordPieceVocabulary } from "../helpers/static-fixtures.js";

function randomParameters(seed: number, tokenizer: TokenizerSpec = tinyUnigramVocabulary()): StaticEncoderParameters {
  const random = seededRandom(seed);
  const V = tokenizer.pieces.length;
  return {
    tokenizer,
    dimensions: DIM,
    table: Float32Array.from({ length: V * DIM }, () => random() * 2 - 1),
    tokenWeights: Float32Array.from({ length: V }, () => 0.5 + random()),
    bias: Float32Array.from({ length: DIM }, () => (random() - 0.5) * 0.1),
    teacher: { id: "fake-teacher", fingerprint: "abc" },
  };
}

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** The encoder's files as versions 1 and 2 wrote them: the table holds every row, all-zero ones too. */
function writeDense(encoder: StaticEncoder, version: 1 | 2, dir: string): void {
  const { header, binary } = encoder.serialize();
  const h = JSON.parse(header) as { vocabSize: number; dimensions: number };
  const [V, D] = [h.vocabSize, h.dimensions];
  const head = 4 * (2 * V + D);
  const dense = new Uint8Array(head + V * D);
  dense.set(binary.subarray(0, head));
  const scales = new Float32Array(dense.buffer, 0, V);
  for (let r = 0, at = head; r < V; r++) {
    if (scales[r] === 0) continue;
    dense.set(binary.subarray(at, at + D), head + r * D);
    at += D;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, STATIC_HEADER_FILE), JSON.stringify({ ...h, version }));
  writeFileSync(join(dir, STATIC_BINARY_FILE), dense);
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "static-enc-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("StaticEncoder", () => {
  it("embeds as the normalised bias + weighted mean of token rows (within int8 precision)", async () => {
    const p = randomParameters(1);
    const enc = StaticEncoder.fromParameters(p);
    expect(enc.id).toBe("static:fake-teacher");
    const ids = enc.tokenize("my cards");
    const expected = new Float32Array(DIM);
    for (let d = 0; d < DIM; d++) {
      expected[d] = p.bias[d];
      for (const id of ids) expected[d] += (p.tokenWeights[id] * p.table[id * DIM + d]) / ids.length;
    }
    const n = norm(expected);
    const [v] = await enc.embed(["my cards"]);
    expect(norm(v)).toBeCloseTo(1, 5);
    for (let d = 0; d < DIM; d++) expect(v[d]).toBeCloseTo(expected[d] / n, 2);
  });

  it("round-trips through save/load with identical vectors and fingerprint", async () => {
    const enc = StaticEncoder.fromParameters(randomParameters(2));
    const dir = join(tempDir(), "static");
    const fp = await saveStaticEncoder(enc, dir);
    const loaded = await StaticEncoder.load(dir);
    expect(loaded.fingerprint).toBe(fp);
    expect(loaded.fingerprint).toBe(sha256Files([join(dir, STATIC_HEADER_FILE), join(dir, STATIC_BINARY_FILE)]));
    const texts = ["the pin is lost", "refund my transfer fee", ""];
    expect(await loaded.embed(texts)).toEqual(await enc.embed(texts));
    expect(loaded.teacher).toEqual({ id: "fake-teacher", fingerprint: "abc" });
  });

  it("with pair rows: adds one hashed row per adjacent pair, round-trips as version 3 without its all-zero rows, and still reads versions 1 and 2", async () => {
    const tokenizer = tinyUnigramVocabulary();
    const V = tokenizer.pieces.length;
    const buckets = 64;
    const random = seededRandom(9);
    const p = randomParameters(9, tokenizer);
    // Rows training never touched stay zero: here every third row.
    const table = Float32Array.from({ length: (V + buckets) * DIM }, (_, i) => (Math.floor(i / DIM) % 3 === 0 ? 0 : random() * 2 - 1));
    const enc = StaticEncoder.fromParameters({ ...p, table, tokenWeights: new Float32Array(V + buckets).fill(1), bigramBuckets: buckets });
    const tokens = enc.tokenize("lost card");
    const plain = StaticEncoder.fromParameters(p).tokenize("lost card");
    expect(tokens.slice(0, plain.length)).toEqual(plain);
    expect(tokens.length).toBe(2 * plain.length - 1);
    for (const id of tokens.slice(plain.length)) expect(id >= V && id < V + buckets).toBe(true);
    expect(staticIds([5, 6], V, buckets)).toEqual(staticIds([5, 6], V, buckets));
    expect(staticIds([5, 6], V, buckets)[2]).not.toBe(staticIds([6, 5], V, buckets)[2]);

    const dir = join(tempDir(), "static");
    await saveStaticEncoder(enc, dir);
    const header = JSON.parse(readFileSync(join(dir, STATIC_HEADER_FILE), "utf8")) as { version: number; bigramBuckets: number; vocabSize: number };
    expect([header.version, header.bigramBuckets, header.vocabSize]).toEqual([3, buckets, V + buckets]);
    const rows = V + buckets;
    const stored = rows - Math.ceil(rows / 3);
    expect(readFileSync(join(dir, STATIC_BINARY_FILE)).byteLength).toBe(4 * (2 * rows + DIM) + stored * DIM);
    const texts = ["lost card", "card lost", "my card fee"];
    const loaded = await StaticEncoder.load(dir);
    expect(await loaded.embed(texts)).toEqual(await enc.embed(texts));
    expect(loaded.parameters().table).toEqual(enc.parameters().table);
    writeFileSync(join(dir, STATIC_HEADER_FILE), JSON.stringify({ ...header, bigramBuckets: 32 }));
    await expect(StaticEncoder.load(dir)).rejects.toThrow(/malformed/);

    const v2 = join(tempDir(), "static");
    writeDense(enc, 2, v2);
    expect(await (await StaticEncoder.load(v2)).embed(texts)).toEqual(await enc.embed(texts));
    const plainEncoder = StaticEncoder.fromParameters(p);
    const v1 = join(tempDir(), "static");
    writeDense(plainEncoder, 1, v1);
    const loadedV1 = await StaticEncoder.load(v1);
    expect(loadedV1.tokenize("lost card")).toEqual(plain);
    expect(await loadedV1.embed(texts)).toEqual(await plainEncoder.embed(texts));
  });

  it("keeps the table within int8-per-row precision", () => {
    const p = randomParameters(3);
    const back = StaticEncoder.fromParameters(p).parameters();
    const V = p.tokenizer.pieces.length;
    for (let r = 0; r < V; r++) {
      const row = p.table.subarray(r * DIM, (r + 1) * DIM);
      const halfStep = Math.max(...Array.from(row, Math.abs)) / 127 / 2;
      for (let d = 0; d < DIM; d++) expect(Math.abs(back.table[r * DIM + d] - row[d])).toBeLessThanOrEqual(halfStep + 1e-7);
    }
    expect(back.tokenWeights).toEqual(p.tokenWeights);
    expect(back.bias).toEqual(p.bias);
  });

  it("changes fingerprint when any weight changes, and not otherwise", () => {
    const p = randomParameters(4);
    const a = StaticEncoder.fromParameters(p);
    expect(StaticEncoder.fromParameters(randomParameters(4)).fingerprint).toBe(a.fingerprint);
    const row = p.table.slice();
    row[5 * DIM] += 0.5;
    expect(StaticEncoder.fromParameters({ ...p, table: row }).fingerprint).not.toBe(a.fingerprint);
    const w = p.tokenWeights.slice();
    w[7] *= 2;
    expect(StaticEncoder.fromParameters({ ...p, tokenWeights: w }).fingerprint).not.toBe(a.fingerprint);
  });

  it("returns finite unit vectors for empty, whitespace, unknown-only and very long text", async () => {
    for (const tokenizer of [tinyUnigramVocabulary(), tinyWordPieceVocabulary()]) {
      const p = randomParameters(5, tokenizer);
      const enc = StaticEncoder.fromParameters({ ...p, bias: new Float32Array(DIM) });
      const long = "transfer my card fee ".repeat(20_000);
      for (const v of await enc.embed(["", "   ", "日本語", long, "x".repeat(50_000), "\u0000\uFFFF"])) {
        expect(v).toHaveLength(DIM);
        expect(v.every(Number.isFinite)).toBe(true);
        expect(norm(v)).toBeCloseTo(1, 5);
      }
    }
  });

  it("rejects parameters that do not fit the vocabulary", () => {
    const p = randomParameters(6);
    expect(() => StaticEncoder.fromParameters({ ...p, table: p.table.subarray(1) })).toThrow(TriageError);
    expect(() => StaticEncoder.fromParameters({ ...p, bias: new Float32Array(3) })).toThrow(/do not fit/);
  });

  it("fails clearly on a missing or truncated artifact", async () => {
    const dir = tempDir();
    await expect(StaticEncoder.load(join(dir, "nothing"))).rejects.toThrow(/missing/);
    const target = join(dir, "static");
    await saveStaticEncoder(StaticEncoder.fromParameters(randomParameters(7)), target);
    writeFileSync(join(target, STATIC_BINARY_FILE), new Uint8Array(10));
    await expect(StaticEncoder.load(target)).rejects.toThrow(/header implies/);
    writeFileSync(join(target, STATIC_HEADER_FILE), "{not json");
    await expect(StaticEncoder.load(target)).rejects.toThrow(/not JSON/);
  });

  it("refuses a non-finite scale, weight or bias with the file named", async () => {
    const target = join(tempDir(), "static");
    await saveStaticEncoder(StaticEncoder.fromParameters(randomParameters(8)), target);
    const bin = join(target, STATIC_BINARY_FILE);
    const bytes = readFileSync(bin);
    bytes.writeFloatLE(Number.NaN, 0); // the first row's scale
    writeFileSync(bin, bytes);
    await expect(StaticEncoder.load(target)).rejects.toThrow(`${bin}: holds a non-finite value in its row scales`);
  });

  it("replaces only a folder holding an earlier static encoder; a folder of other files is left as it was", async () => {
    const root = tempDir();
    const target = join(root, "enc");
    await saveStaticEncoder(StaticEncoder.fromParameters(randomParameters(9)), target);
    const fp = await saveStaticEncoder(StaticEncoder.fromParameters(randomParameters(10)), target);
    expect((await StaticEncoder.load(target)).fingerprint).toBe(fp);
    const user = join(root, "notes");
    mkdirSync(user);
    writeFileSync(join(user, STATIC_HEADER_FILE), '{"mine": true}');
    writeFileSync(join(user, "todo.txt"), "keep me");
    await expect(saveStaticEncoder(StaticEncoder.fromParameters(randomParameters(11)), user)).rejects.toThrow(/not replacing it.*todo\.txt/);
    expect(readFileSync(join(user, "todo.txt"), "utf8")).toBe("keep me");
    expect(readFileSync(join(user, STATIC_HEADER_FILE), "utf8")).toBe('{"mine": true}');
  });
});
