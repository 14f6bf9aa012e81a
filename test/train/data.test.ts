import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExamples } from "../../src/train/data.js";
import { tempDir } from "../helpers/tiers.js";

function file(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

describe("loadExamples", () => {
  it("reads JSONL, drops exact duplicates and reports conflicting labels with their lines", () => {
    const path = file("d.jsonl", ['{"text":"hello","label":"A"}', "", '{"text":"hello","label":"A"}', '{"text":"bye","label":"B"}', '{"text":"bye","label":"A"}'].join("\n"));
    const r = loadExamples(path);
    expect(r.examples).toEqual([
      { text: "hello", label: "A" },
      { text: "bye", label: "B" },
    ]);
    expect(r.duplicates).toBe(1);
    expect(r.conflicts).toEqual([{ where: `${path}:5`, message: `same text as ${path}:4 but label "A" vs "B"` }]);
  });

  it("names file, line and field for every bad row", () => {
    const path = file(
      "bad.jsonl",
      ['{"text":"ok","label":"A"}', "{not json", '{"text":"","label":"A"}', '{"text":42,"label":"A"}', '{"text":"no label"}', '{"text":"x","label":"Z"}'].join("\n"),
    );
    let message = "";
    try {
      loadExamples(path, { allowedLabels: ["A", "B"] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("5 invalid row(s)");
    expect(message).toContain(`${path}:2: invalid JSON`);
    expect(message).toContain(`${path}:3: field "text" is empty`);
    expect(message).toContain(`${path}:4: field "text" is not a string`);
    expect(message).toContain(`${path}:5: missing field "label"`);
    expect(message).toContain(`${path}:6: label "Z" is not in the config (A, B)`);
  });

  it("reads CSV with custom field names and real line numbers across quoted newlines", () => {
    const path = file("d.csv", 'query,route\n"multi\nline",billing\n,billing\nrefund please,refunds\n');
    const r = loadExamples(path, { textField: "query", labelField: "route", allowInvalid: true });
    expect(r.examples.map((e) => e.label)).toEqual(["billing", "refunds"]);
    expect(r.invalid).toEqual([{ where: `${path}:4`, message: 'field "query" is empty' }]);
  });

  it("reads in-memory content for stdin", () => {
    const r = loadExamples("-", { content: '{"text":"a","label":"X"}\n{"text":"b","label":"Y"}\n' });
    expect(r.examples).toHaveLength(2);
  });

  it("fails clearly on a missing file", () => {
    expect(() => loadExamples("/nonexistent/file.jsonl")).toThrow("/nonexistent/file.jsonl: cannot read (ENOENT)");
  });
});
