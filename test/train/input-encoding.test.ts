// Input files as editors save them: a UTF-8 byte-order mark is read past, bytes that are not UTF-8 are an error at file:line.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRoutesConfig } from "../../src/config/load.js";
import { loadExamples } from "../../src/train/data.js";
import { loadOutcomes } from "../../src/outcomes/load.js";
import { tempDir } from "../helpers/tiers.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function file(name: string, ...parts: (string | Buffer)[]): string {
  const path = join(tempDir(), name);
  writeFileSync(path, Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p))));
  return path;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return "(no error)";
}

describe("a UTF-8 BOM at the start of a file is not part of line 1", () => {
  it("JSONL and CSV training data", () => {
    const jsonl = file("bom.jsonl", BOM, '{"text":"héllo","label":"A"}\n{"text":"bye","label":"B"}\n');
    expect(loadExamples(jsonl).examples).toEqual([
      { text: "héllo", label: "A" },
      { text: "bye", label: "B" },
    ]);
    const csv = file("bom.csv", BOM, "text,label\nhéllo,A\n");
    expect(loadExamples(csv).examples).toEqual([{ text: "héllo", label: "A" }]);
  });

  it("data given as already-read content (stdin)", () => {
    expect(loadExamples("-", { content: '\uFEFF{"text":"a","label":"X"}\n' }).examples).toEqual([{ text: "a", label: "X" }]);
  });

  it("routes configs in JSON and YAML", () => {
    const json = file("tiers.json", BOM, '{"labels":[{"name":"CHEAP"},{"name":"DEAR"}]}');
    expect(loadRoutesConfig(json).labels.map((l) => l.name)).toEqual(["CHEAP", "DEAR"]);
    const yaml = file("tiers.yaml", BOM, "ordered: false\nlabels:\n  - name: CHEAP\n  - name: DEAR\n");
    const config = loadRoutesConfig(yaml);
    expect(config.ordered).toBe(false);
    expect(config.labels.map((l) => l.name)).toEqual(["CHEAP", "DEAR"]);
  });

  it("outcome data", () => {
    const path = file("outcomes.jsonl", BOM, '{"prompt":"hi","scores":{"a":1,"b":0}}\n');
    const set = loadOutcomes(path);
    expect(set.models).toEqual(["a", "b"]);
    expect(set.prompts.map((p) => p.text)).toEqual(["hi"]);
  });
});

describe("bytes that are not UTF-8 are an error naming file and line", () => {
  it("JSONL training data (not U+FFFD in the text)", () => {
    const path = file("latin1.jsonl", '{"text":"fine","label":"A"}\n{"text":"also fine","label":"B"}\n{"text":"caf', Buffer.from([0xe9]), '","label":"A"}\n');
    expect(errorOf(() => loadExamples(path))).toBe(`${path}:3: not valid UTF-8 (save the file as UTF-8)`);
  });

  it("CSV training data, a truncated multi-byte sequence at the end of the file", () => {
    const path = file("cut.csv", "text,label\nok,A\nsnow \u2603 here,B\nend ", Buffer.from([0xe2, 0x98]));
    expect(errorOf(() => loadExamples(path))).toBe(`${path}:4: not valid UTF-8 (save the file as UTF-8)`);
  });

  it("configs and outcome data", () => {
    const yaml = file("tiers.yaml", "labels:\n  - name: A\n  - name: ", Buffer.from([0xff]), "\n");
    expect(errorOf(() => loadRoutesConfig(yaml))).toBe(`${yaml}:3: not valid UTF-8 (save the file as UTF-8)`);
    const outcomes = file("o.jsonl", '{"prompt":"x', Buffer.from([0xc3]), '","scores":{"a":1,"b":0}}\n');
    expect(errorOf(() => loadOutcomes(outcomes))).toBe(`${outcomes}:1: not valid UTF-8 (save the file as UTF-8)`);
  });
});
