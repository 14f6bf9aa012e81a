import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir, tierExamples, TIERS_CONFIG } from "../helpers/tiers.js";
import { CLI } from "../helpers/cli.js";

const run = promisify(execFile);

async function triage(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = run("node", [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: join(".cache", "embeddings.sqlite") } });
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

beforeAll(async () => {
  work = tempDir();
  const trainFile = join(work, "train.jsonl");
  writeFileSync(trainFile, tierExamples("train", 15).map((e) => JSON.stringify(e)).join("\n") + "\n");
  testFile = join(work, "test.jsonl");
  writeFileSync(testFile, [...tierExamples("test", 5), { text: "how do I bake sourdough bread", label: "OUT_OF_SCOPE" }].map((e) => JSON.stringify(e)).join("\n") + "\n");
  model = join(work, "model");
  const r = await triage(["train", "--data", trainFile, "--config", TIERS_CONFIG, "--out", model, "--encoder", "use", "--folds", "3"]);
  expect(r.stderr).toContain("encoder: use-lite-512");
  expect(r.code).toBe(0);
});

describe("triage CLI (core commands)", () => {
  it("train prints a summary table and writes the artifact", async () => {
    const info = await triage(["info", model, "--json"]);
    const m = JSON.parse(info.stdout);
    expect(m.labels).toEqual(["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]);
    expect(m.data.examples).toBe(60);
  });

  it("route prints one JSON object per query with the stable fields, from an argument or stdin", async () => {
    const one = await triage(["route", "--model", model, "What", "is", "the", "capital", "of", "Peru?"]);
    const d = JSON.parse(one.stdout.trim());
    for (const k of ["label", "confidence", "margin", "lowConfidence", "latencyMs"]) expect(d).toHaveProperty(k);
    const many = await triage(["route", "--model", model], "hello there\n\ndesign a planet-scale database\nfix this null pointer bug\n");
    const lines = many.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"].includes(l.label))).toBe(true);
  });

  it("eval --json prints accuracy, macroF1, n, coverage and acceptedAccuracy; unknown labels count as out-of-scope", async () => {
    const r = await triage(["eval", "--model", model, "--data", testFile, "--json"]);
    const e = JSON.parse(r.stdout);
    expect(e.n).toBe(20);
    expect(e.accuracy).toBeGreaterThan(0.4);
    for (const k of ["macroF1", "coverage", "acceptedAccuracy", "underRouting", "overRouting"]) expect(typeof e[k]).toBe("number");
    expect(e.outOfScope.n).toBe(1);
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
    for (const cmd of ["train", "route", "eval", "info", "bench", "model"]) {
      const r = await triage([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage: triage " + cmd);
    }
  });
});
