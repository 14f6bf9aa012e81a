/**
 * Opt-in: the real all-MiniLM-L6-v2 tokenizer from ../shared/models (or $TRIAGE_SHARED_DIR/models).
 * Expected ids are looked up in the model's vocab.txt (id = line number - 1), not taken from the tokenizer.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { HfTokenizer } from "../../../src/encoders/tokenizers/hf.js";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const shared = process.env.TRIAGE_SHARED_DIR ?? join(projectRoot, "..", "shared");
const modelDir = join(shared, "models", "all-MiniLM-L6-v2");
const present = existsSync(join(modelDir, "tokenizer.json")) && existsSync(join(modelDir, "vocab.txt"));
if (!present) console.log(`tokenizer-real: skipped, all-MiniLM-L6-v2 tokenizer not found at ${modelDir} (set TRIAGE_SHARED_DIR)`);

describe.skipIf(!present)("HfTokenizer on the real all-MiniLM-L6-v2 tokenizer.json", () => {
  const vocab = present ? readFileSync(join(modelDir, "vocab.txt"), "utf8").split("\n") : [];
  const vid = (token: string) => {
    const i = vocab.indexOf(token);
    if (i < 0) throw new Error(`${token} not in vocab.txt`);
    return i;
  };
  const tok = () => HfTokenizer.load(modelDir, 256);

  it("encodes 'hello world' as the BERT-uncased ids [101, 7592, 2088, 102]", () => {
    expect(tok().encode("hello world").ids).toEqual([101, 7592, 2088, 102]);
    expect([vid("[CLS]"), vid("hello"), vid("world"), vid("[SEP]")]).toEqual([101, 7592, 2088, 102]);
  });

  it("lower-cases, strips accents, splits punctuation and word pieces like BERT uncased", () => {
    const t = tok();
    expect(t.encode("Why was my card declined?").ids).toEqual(["[CLS]", "why", "was", "my", "card", "declined", "?", "[SEP]"].map(vid));
    expect(t.encode("Café NAÏVE").ids).toEqual(["[CLS]", "cafe", "naive", "[SEP]"].map(vid));
    expect(t.encode("unaffable").ids).toEqual(["[CLS]", "una", "##ffa", "##ble", "[SEP]"].map(vid));
    expect(t.encode("hello world").typeIds).toEqual([0, 0, 0, 0]);
  });

  it("ignores the file's fixed 128 padding and truncates at maxLength, ending in [SEP]", () => {
    const t = HfTokenizer.load(modelDir, 8);
    expect(t.encode("hello").ids).toEqual([101, 7592, 102]);
    const long = t.encode("hello world ".repeat(200));
    expect(long.ids).toEqual([101, 7592, 2088, 7592, 2088, 7592, 2088, 102]);
    expect(long.typeIds).toHaveLength(8);
    expect(t.padId).toBe(vid("[PAD]"));
  });
});
