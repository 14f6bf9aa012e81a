import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseJsonl, readJsonlFile } from "../../src/common/jsonl.js";
import { normalizeQuery } from "../../src/common/text.js";
import { tempDir } from "../helpers/temp.js";

const dir = tempDir("triage-jsonl-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("JSONL", () => {
  it("numbers lines as an editor does, skipping blank ones, and says what is wrong with a bad one", () => {
    const lines = parseJsonl('{"a":1}\r\n\n   \n[1]\n{oops\n{"b":2}');
    expect(lines.map((l) => l.line)).toEqual([1, 4, 5, 6]);
    expect(lines[0].value).toEqual({ a: 1 });
    expect(lines[1].problem).toEqual({ kind: "not-object", message: "not a JSON object" });
    expect(lines[2].problem?.kind).toBe("json");
    expect(lines[2].problem?.message).toMatch(/^invalid JSON \(/);
    expect(lines[3].value).toEqual({ b: 2 });
  });

  it("reads a file of objects, or names file:line of the first bad one", () => {
    const good = join(dir, "good.jsonl");
    writeFileSync(good, '{"text":"hi","label":"A"}\n\n{"text":"yo","label":"B"}\n');
    expect(readJsonlFile(good)).toEqual([
      { text: "hi", label: "A" },
      { text: "yo", label: "B" },
    ]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"text":"hi"}\n"just a string"\n');
    expect(() => readJsonlFile(bad)).toThrow(`${bad}:2: not a JSON object`);
    expect(() => readJsonlFile(join(dir, "absent.jsonl"))).toThrow(/absent\.jsonl: cannot read \(ENOENT\)/);
  });

  it("drops a byte-order mark and refuses bytes that are not UTF-8, naming file:line", () => {
    const bom = join(dir, "bom.jsonl");
    writeFileSync(bom, '\uFEFF{"text":"hi","label":"A"}\n');
    expect(readJsonlFile(bom)).toEqual([{ text: "hi", label: "A" }]);
    const latin1 = join(dir, "latin1.jsonl");
    writeFileSync(latin1, Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    expect(() => readJsonlFile(latin1)).toThrow(`${latin1}:2: not valid UTF-8 (save the file as UTF-8)`);
  });
});

describe("normalizeQuery", () => {
  it("makes queries that differ in case and spacing only the same key", () => {
    expect(normalizeQuery("  What IS\tthe\n capital  of Peru? ")).toBe("what is the capital of peru?");
    expect(normalizeQuery("a b")).not.toBe(normalizeQuery("ab"));
  });
});
