import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerEvalRouting } from "../../src/cli/commands/eval-routing.js";
import { usd } from "../../src/outcomes/report.js";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp.js";

/** What the last run wrote to stderr (its progress). */
let stderr = "";

async function run(args: string[]): Promise<string> {
  const program = new Command();
  program.exitOverride();
  registerEvalRouting(program);
  let out = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  stderr = "";
  const errWrite = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(["node", "triage", "eval-routing", ...args]);
  } finally {
    write.mockRestore();
    errWrite.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

const metricKeys = ["apgr", "cpt50", "cpt80", "aiq", "saving95"];

describe("triage eval-routing on the example outcomes", () => {
  it("--cv-repeats chooses the estimator over several fold partitions and says how many; 5 by default", async () => {
    const dir = tempDir("triage-eval-routing-");
    const args = ["--data", "data/outcomes/example.jsonl", "--split", "0.5", "--seed", "3", "--json", "--cache", join(dir, "embeddings.sqlite")];
    expect(JSON.parse(await run(args)).router.cvRepeats).toBe(5);
    expect(JSON.parse(await run([...args, "--cv-repeats", "3"])).router.cvRepeats).toBe(3);
    // Progress while the estimators are cross-validated: the kNN grid, then each head.
    expect(stderr).toContain("eval-routing: cross-validation: 90 kNN settings scored over 3 partition(s) of 5 folds\n");
    expect(stderr).toMatch(/cross-validation: head 12 of 12 \(extended features alone, L2 0\.1\)\n/);
    await expect(run([...args, "--cv-repeats", "0"])).rejects.toThrow(/--cv-repeats|positive|whole/i);
  }, 120_000);

  it("--json prints one object with the router's figures and the baselines', and --out writes the report", async () => {
    const dir = tempDir("triage-eval-routing-");
    const out = await run(["--data", "data/outcomes/example.jsonl", "--split", "0.5", "--seed", "3", "--json", "--out", dir, "--cache", join(dir, "embeddings.sqlite")]);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    for (const k of metricKeys) expect(r).toHaveProperty(k);
    expect(typeof r.apgr).toBe("number");
    expect(r.apgr).toBeGreaterThan(0);
    for (const b of ["random", "rules"]) for (const k of metricKeys) expect(r.baselines[b]).toHaveProperty(k);
    expect(r.baselines.random.apgr).toBeCloseTo(0.5, 9);
    for (const b of ["strongest", "oracle"]) {
      expect(typeof r.baselines[b].quality).toBe("number");
      expect(typeof r.baselines[b].cost).toBe("number");
    }
    expect(r.baselines.oracle.cost).toBeLessThanOrEqual(r.baselines.strongest.cost);
    expect(r.weak).toBe("small");
    expect(r.strong).toBe("large");
    expect(r.trainPrompts + r.testPrompts).toBe(36);

    for (const ext of ["json", "md", "svg"]) expect(existsSync(join(dir, `example.${ext}`))).toBe(true);
    expect(readFileSync(join(dir, "example.svg"), "utf8")).toMatch(/^<svg[\s\S]*random mix[\s\S]*<\/svg>\n$/);
    const md = readFileSync(join(dir, "example.md"), "utf8");
    expect(md).toContain("| random mix | 50.0% | 50.0% | 80.0% |");
    expect(JSON.parse(readFileSync(join(dir, "example.json"), "utf8")).summary.apgr).toBe(r.apgr);
  });

  it("rejects a missing data source and half a train/test pair with a clear message", async () => {
    await expect(run(["--train", "data/outcomes/example.jsonl"])).rejects.toThrow(/give --train FILE --test FILE, or --data FILE\|DIR/);
    await expect(run(["--data", "data/outcomes/example.jsonl", "--split", "1.5"])).rejects.toThrow(/--split must be between 0 and 1/);
    await expect(run(["--data", "test/outcomes/fixtures/routellm-small.csv"])).rejects.toThrow(/no costs .* give --prices FILE/);
    await expect(run(["--data", "data/outcomes/example.jsonl", "--encoder", "bert"])).rejects.toThrow(/unknown encoder "bert": use auto, use, onnx or onnx:DIR/);
  });

  it("embeds with the encoder train --outcomes would use, and says which", async () => {
    const dir = tempDir("triage-eval-routing-");
    const args = ["--data", "data/outcomes/example.jsonl", "--split", "0.5", "--seed", "3", "--json", "--resamples", "0", "--cache", join(dir, "embeddings.sqlite")];
    const auto = JSON.parse(await run(args));
    // No ONNX model is pulled here, so auto is the npm-shipped encoder, as for train.
    expect(stderr).toMatch(/^eval-routing: encoder: use-lite-512 \(no ONNX model in .*; using the npm-shipped encoder\)$/m);
    const use = JSON.parse(await run([...args, "--encoder", "use"]));
    expect(stderr).toContain("eval-routing: encoder: use-lite-512 (requested)\n");
    expect(use.router).toEqual(auto.router);
  }, 120_000);
});

describe("triage eval-routing's embedding cache", () => {
  it("is where TRIAGE_CACHE says when --cache is not given", async () => {
    const dir = tempDir("triage-eval-routing-cache-");
    const cache = join(dir, "cache.sqlite");
    const { stdout } = await promisify(execFile)(process.execPath, [...CLI, "eval-routing", "--data", "data/outcomes/example.jsonl", "--json"], {
      env: { ...process.env, TRIAGE_CACHE: cache },
    });
    expect(JSON.parse(stdout).trainPrompts).toBeGreaterThan(0);
    const db = new Database(cache, { readonly: true });
    const { n } = db.prepare("SELECT COUNT(*) AS n FROM embeddings").get() as { n: number };
    db.close();
    expect(n).toBe(36); // every prompt of the example outcomes, embedded once
  });
});

describe("triage eval-routing's output for people", () => {
  const dir = tempDir("triage-eval-routing-text-");
  const cache = join(dir, "embeddings.sqlite");

  it("gives saving at 95% with bootstrap intervals over the test prompts, and the router against each baseline; --resamples 0 leaves them out", async () => {
    const args = ["--data", "data/outcomes/example.jsonl", "--split", "0.5", "--seed", "3", "--cache", cache];
    const r = JSON.parse(await run([...args, "--json", "--resamples", "300"]));
    const u = r.uncertainty;
    expect(u).toMatchObject({ resamples: 300, share: 0.95 });
    expect(u.router.low).toBeLessThanOrEqual(r.saving95);
    expect(u.router.high).toBeGreaterThanOrEqual(r.saving95);
    for (const b of ["rules", "zero", "random"]) expect(u.versus[b].atLeast).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(await run([...args, "--json", "--resamples", "0"]))).not.toHaveProperty("uncertainty");
    const text = await run(args);
    expect(text).toMatch(/^saving@95% over 1000 bootstrap draws of the test prompts \(95% intervals\): router -?\d+\.\d% to \d+\.\d%.*router minus zero router/m);
    await expect(run([...args, "--resamples", "-1"])).rejects.toThrow(/--resamples/);
  });

  it("text output: a table of the figures, then one line per metric saying what it means", async () => {
    const out = await run(["--data", "data/outcomes/example.jsonl", "--split", "0.5", "--seed", "3", "--cache", cache]);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\d+ train and \d+ test prompts; weak = small \(cheapest\), strong = large \(best quality\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ +APGR {2}CPT\(50%\) {2}CPT\(80%\) +AIQ {2}saving@95%$/));
    for (const row of ["outcome router", "random mix", "length+keyword rules"]) expect(lines.some((l) => l.startsWith(row))).toBe(true);
    for (const metric of ["APGR", "CPT(50%)", "CPT(80%)", "AIQ", "saving@95%"]) {
      const line = lines.find((l) => l.startsWith(`${metric} `));
      expect(line, metric).toMatch(new RegExp(`^${metric.replace(/[()]/g, "\\$&")} +[a-z].{30,}$`));
    }
  });

  it("Markdown lists each fixed policy once and gives costs to four significant digits, not cents", async () => {
    await run(["--data", "data/outcomes/example.jsonl", "--split", "0.5", "--seed", "3", "--cache", cache, "--out", dir, "--json"]);
    const md = readFileSync(join(dir, "example.md"), "utf8");
    for (const model of ["small", "medium", "large"]) expect(md.match(new RegExp(`^\\| always ${model}\\b`, "gm")), model).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(dir, "example.json"), "utf8")).report;
    expect(md).toContain(`| oracle (cheapest correct) | ${(report.baselines.oracle.quality * 100).toFixed(1)}% | $${Number(report.baselines.oracle.cost.toPrecision(4))} |`);
    expect(usd(12.3456)).toBe("$12.35");
    expect(usd(1.23456)).toBe("$1.235");
    expect(usd(0.013412)).toBe("$0.01341");
    expect(usd(0.000408)).toBe("$0.000408");
    expect(usd(0)).toBe("$0");
    expect(usd(123456.7)).toBe("$123457");
  });

  it("accepts train and test files that list the same models in different orders; different models are named", async () => {
    const rows = readFileSync("data/outcomes/example.jsonl", "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { scores: Record<string, number>; costs: Record<string, number> });
    const reversed = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).reverse());
    const write = (name: string, part: typeof rows) => {
      const path = join(dir, name);
      writeFileSync(path, part.map((r) => JSON.stringify(r)).join("\n") + "\n");
      return path;
    };
    const train = write("order_train.jsonl", rows.slice(0, 18));
    const sameOrder = write("same.jsonl", rows.slice(18));
    const otherOrder = write(
      "other.jsonl",
      rows.slice(18).map((r) => ({ ...r, scores: reversed(r.scores), costs: reversed(r.costs) })),
    );
    const a = JSON.parse(await run(["--train", train, "--test", sameOrder, "--json", "--cache", cache]));
    const b = JSON.parse(await run(["--train", train, "--test", otherOrder, "--json", "--cache", cache]));
    expect(b).toEqual(a);
    const fewer = write(
      "fewer.jsonl",
      rows.slice(18).map((r) => ({ ...r, scores: { small: r.scores.small, large: r.scores.large }, costs: { small: r.costs.small, large: r.costs.large } })),
    );
    await expect(run(["--train", train, "--test", fewer, "--json", "--cache", cache])).rejects.toThrow(/train and test list different models: only in train: medium/);
  });
});
