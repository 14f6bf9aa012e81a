// `triage train --out` replaces only a triage model (or an empty folder); everything else is refused
// with one line, before any training, and left byte-for-byte as it was.
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { snapshot } from "../helpers/files.js";
import { tempDir, tierExamples, TIERS_CONFIG } from "../helpers/tiers.js";
import { CLI } from "../helpers/cli.js";

const run = promisify(execFile);
const CACHE = join(process.cwd(), ".cache", "embeddings.sqlite");

async function triage(args: string[], cwd = process.cwd()): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: CACHE } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** The one line a refused train prints: no progress, no stack trace. */
function refusal(r: { stderr: string; code: number }): string {
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^triage: /);
  return lines[0];
}

let work: string;
let data: string;
const train = (out: string, cwd?: string) => triage(["train", "--data", data, "--config", TIERS_CONFIG, "--out", out, "--encoder", "use", "--folds", "3"], cwd);

beforeAll(() => {
  work = tempDir();
  data = join(work, "train.jsonl");
  writeFileSync(
    data,
    tierExamples("train", 10)
      .map((e) => JSON.stringify(e))
      .join("\n") + "\n",
  );
});

describe("train --out", () => {
  it("refuses a folder of the user's files and leaves every byte of it", async () => {
    const out = join(work, "notes");
    mkdirSync(join(out, "drafts"), { recursive: true });
    writeFileSync(join(out, "ideas.md"), "# ideas\n");
    writeFileSync(join(out, "manifest.json"), '{"name": "my web app"}');
    writeFileSync(join(out, "drafts", "blob.bin"), Buffer.from([0, 255, 7]));
    const before = snapshot(out);
    expect(refusal(await train(out))).toContain(`${out}: not replacing it, it does not hold a triage model`);
    expect(snapshot(out)).toEqual(before);
  });

  it("refuses an existing file", async () => {
    const out = join(work, "model.txt");
    writeFileSync(out, "not a folder");
    expect(refusal(await train(out))).toContain(`${out}: is a file, not a directory`);
    expect(snapshot(work)["model.txt"]).toBe(Buffer.from("not a folder").toString("base64"));
  });

  it("refuses the working directory (`--out .`) with one line, not a stack trace", async () => {
    const project = join(work, "project");
    const cwd = join(project, "src");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, "main.ts"), "mine");
    const before = snapshot(project);
    expect(refusal(await train(".", cwd))).toContain(".: is the working directory or one of its parents");
    expect(refusal(await train("..", cwd))).toContain("..: is the working directory or one of its parents");
    expect(snapshot(project)).toEqual(before);
  });

  it("refuses the folder holding the training data", async () => {
    const before = snapshot(work);
    expect(refusal(await train(work))).toContain(`${work}: holds the training data (${data})`);
    expect(snapshot(work)).toEqual(before);
  });

  it("replaces its own model, but not once the user has put a file of their own into it", async () => {
    const out = join(work, "model");
    expect((await train(out)).code).toBe(0);
    expect((await train(out)).code).toBe(0);
    writeFileSync(join(out, "NOTES.md"), "served since May\n");
    const before = snapshot(out);
    expect(refusal(await train(out))).toContain(`${out}: not replacing it, it does not hold a triage model (it also holds NOTES.md, which triage did not write)`);
    expect(snapshot(out)).toEqual(before);
  });
});

describe("train --registry", () => {
  it("adds a version, makes it current and prunes the oldest beyond five, as retrain does", async () => {
    const reg = join(work, "registry");
    for (let v = 1; v <= 5; v++) mkdirSync(join(reg, "versions", `v000${v}`), { recursive: true });
    writeFileSync(join(reg, "current"), JSON.stringify({ version: "v0005", previous: "v0004", switchedAt: "" }));
    const r = await triage(["train", "--data", data, "--config", TIERS_CONFIG, "--registry", reg, "--encoder", "use", "--folds", "3"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${reg}: current -> v0006 (pruned v0001)`);
    expect(readdirSync(join(reg, "versions")).sort()).toEqual(["v0002", "v0003", "v0004", "v0005", "v0006"]);
    expect(JSON.parse(readFileSync(join(reg, "current"), "utf8"))).toMatchObject({ version: "v0006", previous: "v0005" });
  });
});
