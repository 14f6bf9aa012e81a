// `triage train --outcomes` writes a verified outcome model; `route` (and `info`) read it back.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { Router } from "../../src/router/router.js";
import { snapshot } from "../helpers/files.js";
import { tempDir } from "../helpers/tiers.js";
import { CLI } from "../helpers/cli.js";

const run = promisify(execFile);
let work: string;
let cache: string;

async function triage(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: cache } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

function oneLineError(r: { stderr: string; code: number }): string {
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split("\n");
  expect(lines.at(-1)).toMatch(/^triage: /);
  return lines.at(-1)!;
}

let model: string;

beforeAll(async () => {
  work = tempDir();
  cache = join(work, "cache.sqlite");
  model = join(work, "model");
  const r = await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--out", model, "--json", "--encoder", "use"]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe("triage train --outcomes", () => {
  it("writes a versioned artifact with checksums recording the models, their costs, the estimator and its CV calibration", () => {
    const m = JSON.parse(readFileSync(join(model, "manifest.json"), "utf8"));
    expect(m.kind).toBe("outcomes");
    expect(m.labels).toEqual(["small", "medium", "large"]); // cheapest first
    expect(m.config.labels.map((l: { model: string }) => l.model)).toEqual(["small", "medium", "large"]);
    expect(m.outcomes.models[m.outcomes.strong]).toBe("large");
    expect(m.outcomes.meanCost).toHaveLength(3);
    expect(["knn", "logistic", "blend"]).toContain(m.outcomes.estimator.method);
    expect(m.outcomes.dial.default).toEqual({ quality: 0.95 });
    const points = m.outcomes.dial.calibration.points;
    expect(points.length).toBeGreaterThan(1);
    // From "best predicted" to "always the cheapest": out of fold, the cost falls as the tolerance grows.
    expect(points[0].cost).toBeGreaterThan(points.at(-1).cost);
    // USE-Lite's 512 dimensions: a logistic head reads their top 128 principal directions, stored beside it.
    expect(Object.keys(m.checksums.files).sort()).toEqual(m.outcomes.head ? ["head.bin", "index.hnsw", "projection.bin", "scores.bin"] : ["index.hnsw", "scores.bin"]);
    if (m.outcomes.head) expect(m.outcomes.projection).toMatchObject({ inputDims: 512, outputDims: 128 });
    expect(m.outcomes.cv.repeats).toBe(5);
  });

  it("route prints one decision per query naming the model, its expected quality and cost, the runner-up and why", async () => {
    const r = await triage(["route", "--model", model, "Prove that there are infinitely many primes."]);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(["small", "medium", "large"]).toContain(d.model);
    expect(d.label).toBe(d.model);
    expect(d.outcome.expectedQuality).toBe(d.scores[d.model]);
    expect(d.outcome.expectedCostUsd).toBeGreaterThan(0);
    expect(d.outcome.runnerUp.model).not.toBe(d.model);
    expect(d.outcome.why).toContain(d.model);
    expect(d.outcome.dial).toMatchObject({ quality: 0.95, from: "default" });
  });

  it("the dial moves the choice: a low quality floor or a tight cost ceiling takes a cheaper model", async () => {
    const text = "Write a function that merges two sorted lists.";
    const at = async (...flags: string[]) => JSON.parse((await triage(["route", "--model", model, ...flags, text])).stdout).model as string;
    const costOf = { small: 1, medium: 2, large: 3 } as Record<string, number>;
    const high = await at("--quality", "1");
    const low = await at("--quality", "0.3");
    const capped = await at("--max-cost", "0");
    expect(costOf[low]).toBeLessThanOrEqual(costOf[high]);
    expect(capped).toBe("small");
  });

  it("info summarises the outcome model", async () => {
    const r = await triage(["info", model]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/outcome model/);
    expect(r.stdout).toMatch(/small .*medium .*large/);
    // How the estimator was chosen, and what its head reads of USE-Lite's 512 dimensions (when it has one).
    const m = JSON.parse(readFileSync(join(model, "manifest.json"), "utf8"));
    expect(r.stdout).toContain(`(5 folds × 5 partitions${m.outcomes.head ? "; head on 128 of 512 dimensions" : ""})`);
  });

  it("a changed file is refused at load with one line naming it", async () => {
    const copy = join(work, "damaged");
    const again = await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--out", copy, "--encoder", "use"]);
    expect(again.code, again.stderr).toBe(0);
    // The summary reads as names and values, every value starting in one column (not padded to the longest value).
    const summary = again.stderr
      .slice(again.stderr.lastIndexOf("\nmodel ") + 1)
      .trim()
      .split("\n");
    expect(summary.map((l) => l.split(/ {2,}/)[0])).toEqual(["model", "written to", "prompts", "models", "strongest", "estimator", "default dial", "time"]);
    expect(new Set(summary.map((l) => /^\S+(?: \S+)* +/.exec(l)![0].length)).size).toBe(1);
    const scores = readFileSync(join(copy, "scores.bin"));
    scores[0] ^= 1;
    writeFileSync(join(copy, "scores.bin"), scores);
    expect(oneLineError(await triage(["route", "--model", copy, "hello"]))).toMatch(/scores\.bin: checksum does not match/);
  });

  it("Router.load names the kind of model instead of failing on a missing file", async () => {
    await expect(Router.load(model)).rejects.toThrow(/is an outcome model .* OutcomeRouter\.load or openRouter/);
  });

  it("refuses bad input with one line, before any work, and leaves a user's folder as it was", async () => {
    expect(oneLineError(await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--data", "x.jsonl", "--out", join(work, "x")]))).toMatch(/not both/);
    expect(oneLineError(await triage(["train", "--out", join(work, "x")]))).toMatch(/give --data FILE .* or --outcomes/);
    expect(oneLineError(await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--out", join(work, "x"), "--quality", "1.5"]))).toMatch(
      /--quality: expected a quality floor in \(0, 1\]/,
    );
    expect(oneLineError(await triage(["route", "--model", model, "--quality", "0.9", "--max-cost", "0.2", "hi"]))).toMatch(/--quality or --max-cost, not both/);
    const users = join(work, "users");
    mkdirSync(users);
    writeFileSync(join(users, "notes.txt"), "mine");
    const before = snapshot(users);
    expect(oneLineError(await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--out", users]))).toMatch(/not replacing it/);
    expect(snapshot(users)).toEqual(before);
    const badScore = join(work, "bad.jsonl");
    writeFileSync(badScore, '{"prompt": "a", "scores": {"x": 1, "y": "high"}, "costs": {"x": 1, "y": 2}}\n');
    expect(oneLineError(await triage(["train", "--outcomes", badScore, "--out", join(work, "y")]))).toMatch(/bad\.jsonl:1: field "scores\.y"/);
  });

  it("writes into a registry and promotes the version", async () => {
    const registry = join(work, "registry");
    const r = await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--registry", registry, "--encoder", "use"]);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse((await triage(["route", "--model", registry, "What is 2 + 2?"])).stdout);
    expect(["small", "medium", "large"]).toContain(d.model);
  });
});
