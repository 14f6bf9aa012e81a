import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerEvalRouting } from "../../src/cli/commands/eval-routing.js";
import { CLI } from "../helpers/cli.js";

async function run(args: string[]): Promise<string> {
  const program = new Command();
  program.exitOverride();
  registerEvalRouting(program);
  let out = "";
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const errWrite = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
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
  it("--json prints one object with the router's figures and the baselines', and --out writes the report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triage-eval-routing-"));
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
  });
});

describe("triage eval-routing's embedding cache", () => {
  it("is where TRIAGE_CACHE says when --cache is not given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triage-eval-routing-cache-"));
    const cache = join(dir, "cache.sqlite");
    const { stdout } = await promisify(execFile)(process.execPath, [...CLI, "eval-routing", "--data", "data/outcomes/example.jsonl", "--json"], { env: { ...process.env, TRIAGE_CACHE: cache } });
    expect(JSON.parse(stdout).trainPrompts).toBeGreaterThan(0);
    const db = new Database(cache, { readonly: true });
    const { n } = db.prepare("SELECT COUNT(*) AS n FROM embeddings").get() as { n: number };
    db.close();
    expect(n).toBe(36); // every prompt of the example outcomes, embedded once
  });
});
