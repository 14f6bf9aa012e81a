import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_EMBEDDING_CACHE, tempDir, tierExamples, TIERS_CONFIG } from "../helpers/tiers.js";
import { CLI } from "../helpers/cli.js";

const run = promisify(execFile);

async function triage(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = run("node", [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: TEST_EMBEDDING_CACHE } });
  if (input !== undefined) {
    child.child.stdin!.write(input);
    child.child.stdin!.end();
  }
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

let work: string;
let model: string;
let testFile: string;
/** What `triage train` printed on stderr: the encoder line, progress, then the summary table. */
let trainStderr: string;

beforeAll(async () => {
  work = tempDir();
  const trainFile = join(work, "train.jsonl");
  writeFileSync(
    trainFile,
    tierExamples("train", 15)
      .map((e) => JSON.stringify(e))
      .join("\n") + "\n",
  );
  testFile = join(work, "test.jsonl");
  writeFileSync(testFile, [...tierExamples("test", 5), { text: "how do I bake sourdough bread", label: "OUT_OF_SCOPE" }].map((e) => JSON.stringify(e)).join("\n") + "\n");
  model = join(work, "model");
  const r = await triage(["train", "--data", trainFile, "--config", TIERS_CONFIG, "--out", model, "--encoder", "use", "--folds", "3"]);
  expect(r.stderr).toContain("encoder: use-lite-512");
  expect(r.code).toBe(0);
  trainStderr = r.stderr;
});

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The summary table's rows by their first column (columns are separated by two or more spaces). */
function tableRows(text: string, firstKey: string): Map<string, string> {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(firstKey + " "));
  const rows = new Map<string, string>();
  for (const line of lines.slice(start)) {
    if (line.trim() === "") break;
    const [key, ...rest] = line.split(/ {2,}/);
    rows.set(key, rest.join("  "));
  }
  return rows;
}

/** Command names and descriptions from the root --help (descriptions wrap onto indented lines). */
function commandsInHelp(help: string): Map<string, string> {
  const section = help.slice(help.indexOf("Commands:\n") + "Commands:\n".length);
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of section.split("\n")) {
    const entry = /^ {2}(\S+)(?: (?:\[[^\]]+\]|<[^>]+>))* {2,}(.*)$/.exec(line);
    if (entry) {
      current = entry[1];
      out.set(current, entry[2]);
    } else if (current && line.trim() !== "") out.set(current, `${out.get(current)} ${line.trim()}`);
  }
  out.delete("help");
  return out;
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

describe("triage CLI (core commands)", () => {
  it("train prints a summary in plain words and writes the artifact", async () => {
    const info = await triage(["info", model, "--json"]);
    const m = JSON.parse(info.stdout);
    expect(m.labels).toEqual(["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]);
    expect(m.data.examples).toBe(60);
    // The summary states what the artifact records, saying what each figure is.
    const rows = tableRows(trainStderr, "model");
    expect([...rows.keys()]).toEqual(["model", "written to", "examples", "labels", "accuracy", "macro-F1", "how it decides", "confident decisions", "time"]);
    expect(rows.get("model")).toBe(m.version);
    expect(rows.get("written to")).toBe(model);
    expect(rows.get("examples")).toBe(`60 (${m.data.duplicates} exact duplicates dropped, ${m.data.conflicts} texts with two labels: first label kept)`);
    expect(rows.get("labels")).toBe("SIMPLE, MEDIUM, COMPLEX, FRONTIER (tiers, cheapest first)");
    const cv = m.metrics.cv;
    expect(rows.get("accuracy")).toBe(
      `${pct(cv.accuracy)} on examples held out in 3-fold cross-validation (the parts alone: similar examples ${pct(cv.parts.knn.accuracy)}, label averages ${pct(cv.parts.centroid.accuracy)}, classifier ${pct(cv.parts.head.accuracy)})`,
    );
    expect(rows.get("macro-F1")).toMatch(new RegExp(`^${pct(cv.macroF1).replace(".", "\\.")} \\(accuracy averaged over labels`));
    // No internal part names or bare weights: each part is named and weighted in percent, heaviest first.
    const how = rows.get("how it decides")!;
    expect(how).not.toMatch(/knn|centroid|head|k=/);
    const c = m.combination;
    const parts = [
      [c.knn, `vote of the ${c.k} most similar examples`],
      [c.centroid, "similarity to each label's average example"],
      [c.head, "classifier trained on the examples"],
    ]
      .filter(([w]) => w > 0)
      .sort((a, b) => b[0] - a[0]);
    expect(how).toBe(parts.length === 1 ? `${parts[0][1]} alone` : parts.map(([w, name]) => `${Math.round(w * 100)}% ${name}`).join(", "));
    const cal = m.calibration;
    expect(rows.get("confident decisions")).toBe(
      `${pct(cal.coverage)} of queries, ${pct(cal.acceptedAccuracy)} of them right (target ${pct(cal.targetAccuracy)}); the others go to the costlier of the top two labels (low-confidence policy: escalate)`,
    );
    expect(rows.get("time")).toMatch(/^\d+\.\d s \(embedding \d+\.\d s, cross-validation \d+\.\d s, final fit \d+\.\d s\)$/);
    // info says the same in the same words.
    const text = tableRows((await triage(["info", model])).stdout, "model");
    for (const key of ["accuracy", "how it decides", "confident decisions"]) expect(text.get(key), key).toBe(rows.get(key));
  });

  it("route prints one JSON object per query with the stable fields, from an argument or stdin", async () => {
    const one = await triage(["route", "--model", model, "What", "is", "the", "capital", "of", "Peru?"]);
    const d = JSON.parse(one.stdout.trim());
    for (const k of ["label", "confidence", "margin", "lowConfidence", "latencyMs"]) expect(d).toHaveProperty(k);
    // In reading order: the answer, the model it maps to, how sure and why; then the details.
    expect(Object.keys(d).slice(0, 7)).toEqual(["label", "model", "confidence", "lowConfidence", "reason", "text", "decidedBy"]);
    expect(Object.keys(d).slice(-2)).toEqual(["scores", "neighbours"]);
    expect(d.text).toBe("What is the capital of Peru?");
    expect(d.model).toBe({ SIMPLE: "gpt-4o-mini", MEDIUM: "gpt-4o", COMPLEX: "claude-3-5-sonnet-latest", FRONTIER: "o1" }[d.label as string]);
    const many = await triage(["route", "--model", model], "hello there\n\ndesign a planet-scale database\nfix this null pointer bug\n");
    const lines = many.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"].includes(l.label))).toBe(true);
  });

  it("route says why in words (rule, confident margin, novelty or low margin, cache) and prints a table with --format table", async () => {
    const m = JSON.parse((await triage(["info", model, "--json"])).stdout);
    const junk = ["zxqv plokk mmrtu", "vvbnq trrk zzlop", "blorf snizzle quank", "fnord klax opnu"];
    const input = ["hello!", "Write a Python function that merges two sorted lists", "Write a Python function that merges two sorted lists", ...junk].join("\n") + "\n";
    const r = await triage(["route", "--model", model, "--policy", "escalate"], input);
    expect(r.code, r.stderr).toBe(0);
    const ds = r.stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            label: string;
            modelLabel: string;
            reason: string;
            stage: string;
            lowConfidence: boolean;
            margin: number;
            decidedBy: string;
            neighbours: { similarity: number }[];
          },
      );
    expect(ds[0]).toMatchObject({ decidedBy: "rule", reason: "matched a rule in the config" });
    expect(ds[2].stage).toBe("cache"); // the exact repeat
    expect(ds[2].reason).toMatch(/a repeated query, its embedding came from the cache$/);
    const cut = m.calibration.threshold.toFixed(3);
    for (const d of ds.slice(1)) {
      if (!d.lowConfidence) {
        expect(d.reason).toMatch(new RegExp(`^confident: the top label leads by ${d.margin.toFixed(3)} \\(${cut} needed\\)`));
        continue;
      }
      const policy = d.label === d.modelLabel ? `kept ${d.label}, the costlier of the top two` : `escalated from ${d.modelLabel} to ${d.label}, the costlier of the top two`;
      const nearest = d.neighbours[0].similarity;
      if (nearest < m.calibration.minSimilarity)
        expect(d.reason).toBe(
          `novel query: the most similar training example is ${Math.round(nearest * 100)}% alike, in-scope queries reach ${Math.round(m.calibration.minSimilarity * 100)}%; ${policy}`,
        );
      else expect(d.reason).toBe(`low margin: the top label leads by only ${d.margin.toFixed(3)} (${cut} needed); ${policy}`);
    }
    expect(ds.slice(3).some((d) => d.reason.startsWith("novel query"))).toBe(true); // gibberish is unlike every example

    const t = await triage(["route", "--model", model, "--policy", "escalate", "--format", "table"], input);
    const rows = t.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^text {2,}label {2,}model {2,}confidence {2}reason$/);
    expect(rows).toHaveLength(1 + ds.length);
    expect(rows[1]).toMatch(/^hello! {2,}SIMPLE {3,}gpt-4o-mini {2,}1\.000 {7}matched a rule in the config$/);
    for (let i = 0; i < ds.length; i++) {
      expect(rows[i + 1].endsWith(`  ${ds[i].reason}`), rows[i + 1]).toBe(true);
      expect(/ low {2,}/.test(rows[i + 1]), rows[i + 1]).toBe(ds[i].lowConfidence);
    }
    const bad = await triage(["route", "--model", model, "--format", "yaml", "hi"]);
    expect(bad.stderr).toMatch(/--format: expected json or table, got "yaml"/);
  });

  it("info takes a registry: it describes the current version and names the registry", async () => {
    const registry = join(work, "registry");
    const trainFile = join(work, "train.jsonl");
    const r = await triage(["train", "--data", trainFile, "--config", TIERS_CONFIG, "--registry", registry, "--encoder", "use", "--folds", "3", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const info = await triage(["info", registry]);
    expect(info.code, info.stderr).toBe(0);
    const rows = tableRows(info.stdout, "registry");
    expect(rows.get("registry")).toBe(`${registry}: 1 version(s) (v0001)`);
    expect(rows.get("current version")).toBe("v0001");
    expect(rows.get("model")).toBe(JSON.parse(r.stdout).version);
    expect(JSON.parse((await triage(["info", registry, "--json"])).stdout).version).toBe(JSON.parse(r.stdout).version);
  });

  it("eval --json prints accuracy, macroF1, n, coverage and acceptedAccuracy; unknown labels count as out-of-scope", async () => {
    const r = await triage(["eval", "--model", model, "--data", testFile, "--json"]);
    const e = JSON.parse(r.stdout);
    expect(e.n).toBe(20);
    expect(e.accuracy).toBeGreaterThan(0.4);
    for (const k of ["macroF1", "coverage", "acceptedAccuracy", "underRouting", "overRouting"]) expect(typeof e[k]).toBe("number");
    expect(e.outOfScope.n).toBe(1);
  });

  it("eval --json: accuracy, per-label precision/recall/F1, macro-F1 and routing errors equal the hand-computed values", async () => {
    // Keyword rules decide every query of the test set, so the predictions are known in advance.
    const config = join(work, "keyword-tiers.json");
    const tiers = ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"];
    writeFileSync(
      config,
      JSON.stringify({ ordered: true, labels: tiers.map((name) => ({ name })), rules: tiers.map((label) => ({ label, keywords: [`route${label.toLowerCase()}`] })) }),
    );
    const ruled = join(work, "keyword-model");
    const trained = await triage(["train", "--data", join(work, "train.jsonl"), "--config", config, "--out", ruled, "--encoder", "use", "--folds", "3"]);
    expect(trained.code, trained.stderr).toBe(0);
    const rows: [predicted: string, actual: string][] = [
      ["SIMPLE", "SIMPLE"],
      ["SIMPLE", "SIMPLE"],
      ["MEDIUM", "SIMPLE"], // over-routed
      ["MEDIUM", "MEDIUM"],
      ["SIMPLE", "MEDIUM"], // under-routed
      ["COMPLEX", "COMPLEX"],
      ["FRONTIER", "COMPLEX"], // over-routed
      ["FRONTIER", "FRONTIER"],
    ];
    const data = join(work, "keyword-test.jsonl");
    writeFileSync(data, rows.map(([p, a], i) => JSON.stringify({ text: `query ${i} route${p.toLowerCase()}`, label: a })).join("\n") + "\n");
    const r = await triage(["eval", "--model", ruled, "--data", data, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    // 5 of 8 right. SIMPLE: tp 2, fp 1 (row 5), fn 1 (row 3); MEDIUM: tp 1, fp 1, fn 1;
    // COMPLEX: tp 1, fp 0, fn 1; FRONTIER: tp 1, fp 1, fn 0.
    expect(e.n).toBe(8);
    expect(e.accuracy).toBeCloseTo(5 / 8, 12);
    const expected = [
      { label: "SIMPLE", precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3 },
      { label: "MEDIUM", precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
      { label: "COMPLEX", precision: 1, recall: 1 / 2, f1: 2 / 3, support: 2 },
      { label: "FRONTIER", precision: 1 / 2, recall: 1, f1: 2 / 3, support: 1 },
    ];
    expect(e.perLabel.map((m: { label: string }) => m.label)).toEqual(tiers);
    expected.forEach((want, i) => {
      const got = e.perLabel[i];
      expect(got.support, want.label).toBe(want.support);
      for (const k of ["precision", "recall", "f1"] as const) expect(got[k], `${want.label} ${k}`).toBeCloseTo(want[k], 12);
    });
    expect(e.macroF1).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3 + 2 / 3) / 4, 12); // 0.625
    expect(e.underRouting).toBeCloseTo(1 / 8, 12);
    expect(e.overRouting).toBeCloseTo(2 / 8, 12);
    expect(e.confusions).toEqual([
      { actual: "SIMPLE", predicted: "MEDIUM", count: 1 },
      { actual: "MEDIUM", predicted: "SIMPLE", count: 1 },
      { actual: "COMPLEX", predicted: "FRONTIER", count: 1 },
    ]);
    // Rule decisions are confident and final: coverage 1, and the policy changes nothing.
    expect(e.coverage).toBe(1);
    expect(e.acceptedAccuracy).toBeCloseTo(5 / 8, 12);
    expect(e.routed.accuracy).toBeCloseTo(5 / 8, 12);
    expect(e.routed.underRouting).toBeCloseTo(1 / 8, 12);
    expect(e.routed.overRouting).toBeCloseTo(2 / 8, 12);
    expect(e.stages).toEqual({ rule: 1 });
    expect(e).not.toHaveProperty("outOfScope");
  });

  it("bad input fails with one clear line naming file and line, and keeps the existing model", async () => {
    const bad = join(work, "bad.jsonl");
    writeFileSync(bad, '{"text":"fine","label":"SIMPLE"}\n{"text":"","label":"SIMPLE"}\n');
    const r = await triage(["train", "--data", bad, "--config", TIERS_CONFIG, "--out", model]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:2: field "text" is empty`);
    const info = await triage(["info", model, "--json"]);
    expect(JSON.parse(info.stdout).data.examples).toBe(60);
  });

  it("reports a missing model and a bad option value clearly", async () => {
    const r = await triage(["route", "--model", join(work, "nope"), "hi"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a triage model/);
    const f = await triage(["train", "--data", testFile, "--out", model, "--folds", "zero"]);
    expect(f.code).not.toBe(0);
    expect(f.stderr).toContain("expected a positive integer");
    const w = await triage(["train", "--data", testFile, "--out", model, "--fast-path-word-dropout", "-1"]);
    expect(w.code).not.toBe(0);
    expect(w.stderr).toContain('expected a whole number >= 0, got "-1"');
  });

  it("bench --json maps each encoder id to p50/p95/p99 and writes JSON + Markdown reports", async () => {
    const out = join(work, "reports");
    const r = await triage(["bench", "--model", model, "--queries", "40", "--train-sample", "40", "--out", out, "--json"]);
    expect(r.code).toBe(0);
    const b = JSON.parse(r.stdout);
    const q = b.encoders["use-lite-512"];
    expect(q.p50).toBeGreaterThan(0);
    expect(q.p99).toBeGreaterThanOrEqual(q.p95);
    expect(q.p95).toBeGreaterThanOrEqual(q.p50);
    expect(b.training.examples).toBe(40);
    expect(JSON.parse(readFileSync(join(out, "bench.json"), "utf8")).model.version).toBe(b.model.version);
    expect(readFileSync(join(out, "bench.md"), "utf8")).toContain("Single-query classify latency");
  });

  it("--help works on every command", async () => {
    const root = await triage(["--help"]);
    expect(root.code).toBe(0);
    const commands = commandsInHelp(root.stdout);
    // Every command the CLI registers (a new one must be added here, and so gets its --help checked).
    expect([...commands.keys()].sort()).toEqual([
      "bench",
      "dashboard",
      "eval",
      "eval-routing",
      "feedback",
      "info",
      "logs",
      "model",
      "models",
      "prune",
      "retrain",
      "review",
      "rollback",
      "route",
      "serve",
      "stats",
      "train",
    ]);
    for (const [cmd, description] of [...commands, ["model pull", "download encoder weights"] as const]) {
      const r = await triage([...cmd.split(" "), "--help"]);
      expect(r.code, cmd).toBe(0);
      // Its own usage line and description, not the root help.
      expect(r.stdout.startsWith(`Usage: triage ${cmd} `), cmd).toBe(true);
      expect(oneLine(r.stdout), cmd).toContain(oneLine(description));
      expect(r.stdout, cmd).not.toContain("Commands:\n  train");
    }
  });
});
