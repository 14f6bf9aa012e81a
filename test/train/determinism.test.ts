/** @module Two trainings with one seed write the same artifact: heads on worker threads, the fast path and all. */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { train } from "../../src/train/train.js";
import { FakeTeacher } from "../helpers/static-fixtures.js";
import { TIERS_CONFIG, tempDir, tierExamples } from "../helpers/tiers.js";

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** The manifest without what names the moment of training or how long it took. */
function manifestOf(dir: string): unknown {
  const { createdAt: _, version: __, checksums, stages, ...rest } = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const { fitSeconds: ___, ...distill } = stages.static.distill;
  return { ...rest, static: { ...stages.static, distill }, files: checksums.files };
}

describe("training", () => {
  it("gives identical artifacts for one seed", async () => {
    const dirs = [join(tempDir(), "a"), join(tempDir(), "b")];
    for (const out of dirs) await train({ data: tierExamples("train", 40), config: TIERS_CONFIG, encoder: new FakeTeacher(), out, folds: 3, seed: 5, fastPath: "on" });
    const [a, b] = dirs;
    expect(files(a)).toEqual(files(b));
    expect(files(a)).toContain(join("static", "head.bin"));
    for (const f of files(a).filter((f) => f !== "manifest.json")) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    expect(manifestOf(a)).toEqual(manifestOf(b));
  }, 300_000);
});
