import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedDir } from "../../src/common/shared.js";
import { loadExamples } from "../../src/train/data.js";
import { loadOutcomes } from "../../src/outcomes/load.js";
import { applyPrices, ROUTELLM_PRICES } from "../../src/outcomes/prices.js";
import { lastQuestion, parsePythonStringList } from "../../src/outcomes/prompt.js";
import { cheapestGoodEnough, writeOutcomeLabels } from "../../src/outcomes/targets.js";
import { bestModel, completeRows, modelsByCost } from "../../src/outcomes/set.js";
import { tempDir } from "../helpers/temp.js";

const fx = (name: string) => join("test/outcomes/fixtures", name);

describe("wide outcome CSV (RouterBench layout)", () => {
  const set = loadOutcomes(fx("routerbench-small.csv"));

  it("finds the model columns and skips ids, responses, costs and the oracle column", () => {
    expect(set.models).toEqual(["small", "big", "mid"]);
    expect(set.prompts.map((p) => p.id)).toEqual(["t.1", "t.2", "t.3"]);
    expect(set.costSource).toBe("data");
    expect(Array.from(set.prompts[1].costs)).toEqual([0.0002, 0.02, 0.002]);
  });

  it("reads the Python-list prompt and keeps only the last question of a few-shot prompt", () => {
    expect(set.prompts[0].text).toBe("What is the boiling point of water at sea level?\nA) 50 C\nB) 100 C\nAnswer:");
    expect(set.prompts[1].text).toBe('It\'s a question with "quotes" and a tab\\there');
    expect(set.prompts[2].text).toBe("Plain prompt");
  });

  it("treats a blank score as unknown, not wrong", () => {
    expect(Number.isNaN(set.prompts[1].scores[2])).toBe(true);
    expect(completeRows(set).prompts.map((p) => p.id)).toEqual(["t.1", "t.3"]);
  });

  it("orders models by mean cost and picks the best-scoring one as strong", () => {
    expect(modelsByCost(set).map((m) => set.models[m])).toEqual(["small", "mid", "big"]);
    expect(set.models[bestModel(set)]).toBe("mid"); // 2/2 known vs big 2/3
  });

  it("can keep the whole few-shot prompt", () => {
    const full = loadOutcomes(fx("routerbench-small.csv"), { lastQuestionOnly: false });
    expect(full.prompts[0].text.startsWith("Is ice cold?")).toBe(true);
  });
});

describe("RouteLLM CSVs", () => {
  it("reads True/False columns, ignores *_response columns, keeps multi-line prompts whole", () => {
    const set = loadOutcomes(fx("routellm-small.csv"));
    expect(set.models).toEqual(["weak-model", "strong-model"]);
    expect(set.prompts[0].text).toBe("Q1: add 2 and 2\nA. 3\nB. 4\nAnswer:");
    expect(set.prompts.map((p) => Array.from(p.scores))).toEqual([
      [1, 1],
      [0, 1],
    ]);
    expect(set.prompts[1].where).toMatch(/routellm-small\.csv:6$/); // the multi-line record spans lines 2-5
    expect(set.costSource).toBe("none");
  });

  it("reads a folder of per-subject files in name order", () => {
    const set = loadOutcomes(fx("routellm-dir"));
    expect(set.prompts.map((p) => p.text)).toEqual(["first file question", "second file question one", "second file question two"]);
  });

  it("fills costs from published prices and a token estimate", () => {
    const set = loadOutcomes(fx("routellm-small.csv"));
    const renamed = { ...set, models: ["mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"] };
    const priced = applyPrices(renamed, ROUTELLM_PRICES);
    const text = "Q2: what is 7*6?"; // 16 chars -> 4 tokens
    expect(priced.prompts[1].text).toBe(text);
    expect(priced.prompts[1].costs[1]).toBeCloseTo((4 * 10 + 100 * 30) / 1e6, 12);
    expect(priced.prompts[1].costs[0]).toBeCloseTo((4 * 0.6 + 100 * 0.6) / 1e6, 12);
    expect(priced.costSource).toBe("prices");
    expect(() => applyPrices(set, ROUTELLM_PRICES)).toThrow(/no price for model\(s\) weak-model, strong-model/);
  });
});

describe("long outcome files", () => {
  it("groups CSV rows by id into one prompt with a score and cost per model", () => {
    const set = loadOutcomes(fx("long.csv"));
    expect(set.models).toEqual(["cheap", "dear"]);
    expect(set.prompts.map((p) => [p.id, Array.from(p.scores), Array.from(p.costs)])).toEqual([
      ["p1", [1, 1], [0.001, 0.01]],
      ["p2", [0, 0.5], [0.002, 0.02]],
    ]);
  });

  it("groups JSONL rows by prompt text and reads boolean scores", () => {
    const set = loadOutcomes(fx("long.jsonl"));
    expect(set.prompts.map((p) => Array.from(p.scores))).toEqual([
      [1, 1],
      [0, 1],
    ]);
    expect(set.costSource).toBe("none");
  });
});

describe("bad outcome rows name file, line and field", () => {
  it.each([
    ["bad-score.csv", /bad-score\.csv:4: field "weak-model": score "maybe" is not a number, true or false/],
    ["bad-json.jsonl", /bad-json\.jsonl:3: invalid JSON/],
    ["bad-missing-model.jsonl", /bad-missing-model\.jsonl:3: field "scores\.b" is missing/],
    ["bad-long.csv", /bad-long\.csv:3: field "model" must be a non-empty string/],
    ["bad-cost.jsonl", /bad-cost\.jsonl:1: field "costs\.a": cost -1 is not a non-negative number/],
  ])("%s", (file, message) => {
    expect(() => loadOutcomes(fx(file))).toThrow(message);
  });

  it("names a missing path", () => {
    expect(() => loadOutcomes(fx("nope.csv"))).toThrow(/nope\.csv: cannot read \(ENOENT\)/);
  });
});

describe("training targets from outcomes", () => {
  const set = loadOutcomes(fx("routerbench-small.csv"));

  it("labels each prompt with the cheapest good-enough model", () => {
    // t.1: all correct -> small; t.2: only big known-correct (mid blank) -> big; t.3: only mid -> mid
    expect(cheapestGoodEnough(set).map((m) => set.models[m])).toEqual(["small", "big", "mid"]);
  });

  it("counts a model within epsilon of the best as good enough", () => {
    const long = loadOutcomes(fx("long.csv")); // p2: cheap 0, dear 0.5
    expect(cheapestGoodEnough(long, { threshold: 0.9 }).map((m) => long.models[m])).toEqual(["cheap", "cheap"]); // none good -> cheapest
    expect(cheapestGoodEnough(long, { threshold: 0.9, whenNone: "best" }).map((m) => long.models[m])).toEqual(["cheap", "dear"]);
    expect(cheapestGoodEnough(long, { threshold: 0.9, epsilon: 0.6 }).map((m) => long.models[m])).toEqual(["cheap", "cheap"]);
    expect(cheapestGoodEnough(long, { threshold: 0.4 }).map((m) => long.models[m])).toEqual(["cheap", "dear"]);
  });

  it("writes labelled JSONL that the normal training loader reads", () => {
    const path = join(tempDir("triage-outcomes-"), "labels.jsonl");
    expect(writeOutcomeLabels(set, path)).toBe(3);
    const loaded = loadExamples(path);
    expect(loaded.examples.map((e) => e.label)).toEqual(["small", "big", "mid"]);
    expect(loaded.examples[2].text).toBe("Plain prompt");
    expect(readFileSync(path, "utf8").endsWith("\n")).toBe(true);
  });
});

describe("prompt helpers", () => {
  it("parses Python string lists with both quote styles and escapes, and rejects other text", () => {
    expect(parsePythonStringList(`['a\\nb', "c\\'d\\x41\\u00e9"]`)).toEqual(["a\nb", "c'dAé"]);
    expect(parsePythonStringList("[1, 2]")).toBeUndefined();
    expect(parsePythonStringList("just text")).toBeUndefined();
    expect(parsePythonStringList("['unterminated]")).toBeUndefined();
  });

  it("leaves prompts without answered examples alone", () => {
    expect(lastQuestion("Write a function.\n\nIt should add.")).toBe("Write a function.\n\nIt should add.");
  });
});

const shared = join(sharedDir(), "datasets"); // TRIAGE_SHARED_DIR names the shared root, as everywhere
const arcTest = join(shared, "routerbench/arc_challenge_test.csv");
describe.skipIf(!existsSync(arcTest))("real RouterBench file (../shared/datasets)", () => {
  it("reads ARC test: 445 prompts, 11 models, blanks as unknown, last question only", () => {
    const set = loadOutcomes(arcTest);
    expect(set.prompts).toHaveLength(445);
    expect(set.models).toHaveLength(11);
    const gpt4 = set.models.indexOf("gpt-4-1106-preview");
    expect(set.prompts.filter((p) => Number.isNaN(p.scores[gpt4]))).toHaveLength(6);
    expect(set.prompts.every((p) => !p.text.includes("Answer:\nA\n"))).toBe(true);
  });
});
if (!existsSync(arcTest)) console.log(`skipped real-data loader test: ${arcTest} not found`);

describe("price lists for data without costs", () => {
  it("--prices fills costs per model from per-1M-token prices", async () => {
    const { withCosts } = await import("../../src/cli/commands/eval-routing.js");
    const set = withCosts(loadOutcomes(fx("routellm-small.csv")), fx("prices.yaml"));
    // "Q2: what is 7*6?" = 4 tokens in; weak 10 out, strong 100 out
    expect(set.prompts[1].costs[0]).toBeCloseTo((4 * 1 + 10 * 2) / 1e6, 12);
    expect(set.prompts[1].costs[1]).toBeCloseTo((4 * 10 + 100 * 20) / 1e6, 12);
    expect(set.notes).toContain("costs estimated from test prices");
  });

  it("a bad price list names the file and field", async () => {
    const { withCosts } = await import("../../src/cli/commands/eval-routing.js");
    expect(() => withCosts(loadOutcomes(fx("routellm-small.csv")), fx("bad-prices.yaml"))).toThrow(/bad-prices\.yaml: models\.0\.input: /);
  });
});
