// `triage route` and `triage eval` refuse a corrupted model with one line and a non-zero exit, and
// run an unverified (pre-checksum) one after a one-line warning.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir, tierExamples, trainTiers } from "../helpers/tiers.js";
import { CLI } from "../helpers/cli.js";

const run = promisify(execFile);

async function triage(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

let model: string;
let testFile: string;

beforeAll(async () => {
  model = (await trainTiers(15)).dir;
  testFile = join(tempDir(), "test.jsonl");
  writeFileSync(
    testFile,
    tierExamples("test", 3)
      .map((e) => JSON.stringify(e))
      .join("\n") + "\n",
  );
});

function copyWith(damage: (dir: string) => void): string {
  const dir = join(tempDir(), "model");
  cpSync(model, dir, { recursive: true });
  damage(dir);
  return dir;
}

describe("a corrupted model on the command line", () => {
  it.each([
    ["head.bin", (p: string) => writeFileSync(p, randomBytes(readFileSync(p).length))],
    ["centroids.bin", (p: string) => writeFileSync(p, new Uint8Array(readFileSync(p).length))],
  ])("route and eval refuse a damaged %s with one line naming it", async (file, damage) => {
    const dir = copyWith((d) => damage(join(d, file)));
    for (const args of [
      ["route", "--model", dir, "what is the capital of Peru?"],
      ["eval", "--model", dir, "--data", testFile],
    ]) {
      const r = await triage(args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining(`triage: ${join(dir, file)}: checksum does not match the manifest`)]);
    }
  });

  it("route warns once, in one line, about a model without checksums, and answers", async () => {
    const dir = copyWith((d) => {
      const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8")) as { checksums?: unknown };
      delete m.checksums;
      writeFileSync(join(d, "manifest.json"), JSON.stringify(m));
    });
    const r = await triage(["route", "--model", dir, "what is the capital of Peru?"]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      `warning: ${dir}: unverified model: its manifest has no checksums (written by an older triage), so corruption cannot be detected; retrain to get a verified artifact`,
    ]);
    expect(JSON.parse(r.stdout).label).toBeTruthy();
  });
});
