// Router.load verifies an artifact before using it: every file against the manifest's SHA-256, the
// manifest against its own, and the weights must be finite. Each failure names the file.
import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CachedEncoder } from "../../src/encoders/cache.js";
import type { Encoder } from "../../src/encoders/types.js";
import { Router } from "../../src/router/router.js";
import type { TrainResult } from "../../src/train/train.js";
import { tempDir, trainTiers, useEncoder } from "../helpers/tiers.js";

let trained: TrainResult;
let encoder: Encoder;

beforeAll(async () => {
  encoder = await useEncoder();
  // Distillation embeds the ~8k vocabulary pieces with the teacher: cache them across runs.
  const teacher = new CachedEncoder(encoder, join(".cache", "embeddings.sqlite"));
  trained = await trainTiers(60, { encoder: teacher, fastPath: "on" });
});

/** A copy of the trained artifact with `damage` applied to it. */
function damaged(damage: (dir: string) => void): string {
  const dir = join(tempDir(), "model");
  cpSync(trained.dir, dir, { recursive: true });
  damage(dir);
  return dir;
}

const sameSizeRandom = (path: string) => writeFileSync(path, randomBytes(readFileSync(path).length));
const zeroed = (path: string) => writeFileSync(path, new Uint8Array(readFileSync(path).length));
const flipByte = (path: string) => {
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1] ^= 0x10;
  writeFileSync(path, bytes);
};
const editManifest = (dir: string) => {
  const path = join(dir, "manifest.json");
  const m = JSON.parse(readFileSync(path, "utf8")) as { calibration: { threshold: number } };
  m.calibration.threshold = 0.01;
  writeFileSync(path, JSON.stringify(m, null, 2));
};
const stripChecksums = (dir: string) => {
  const path = join(dir, "manifest.json");
  const m = JSON.parse(readFileSync(path, "utf8")) as { checksums?: unknown };
  delete m.checksums;
  writeFileSync(path, JSON.stringify(m, null, 2));
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("verified artifacts", () => {
  it("record a SHA-256 for every file, the static stage's included, and load without a warning", async () => {
    const sums = trained.manifest.checksums!;
    expect(sums.algorithm).toBe("sha256");
    expect(Object.keys(sums.files).sort()).toEqual(filesUnder(trained.dir).filter((f) => f !== "manifest.json"));
    expect(Object.keys(sums.files)).toEqual(expect.arrayContaining(["head.bin", "static/head.bin", "static/encoder/static.bin"]));
    expect(Object.values(sums.files).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    const warnings: string[] = [];
    const router = await Router.load(trained.dir, { encoder, onWarning: (m) => warnings.push(m) });
    expect(router.labels).toHaveLength(4);
    expect(warnings).toEqual([]);
  });

  it.each([
    ["same-size random bytes in head.bin", "head.bin", (d: string) => sameSizeRandom(join(d, "head.bin"))],
    ["zeroed centroids.bin", "centroids.bin", (d: string) => zeroed(join(d, "centroids.bin"))],
    ["a flipped byte in the static stage's head", "static/head.bin", (d: string) => flipByte(join(d, "static", "head.bin"))],
    ["a flipped byte in the static encoder's table", "static/encoder/static.bin", (d: string) => flipByte(join(d, "static", "encoder", "static.bin"))],
    ["a truncated index.hnsw", "index.hnsw", (d: string) => truncateSync(join(d, "index.hnsw"), 1000)],
    ["a deleted examples.jsonl", "examples.jsonl", (d: string) => rmSync(join(d, "examples.jsonl"))],
    ["an edited manifest", "manifest.json", editManifest],
  ])("refuse %s, naming the file", async (_what, file, damage) => {
    const dir = damaged(damage);
    await expect(Router.load(dir, { encoder })).rejects.toThrow(`${join(dir, file)}: `);
  });

  it("written before checksums existed: loads with one warning that it is unverified, still refusing non-finite or non-unit weights", async () => {
    const warnings: string[] = [];
    const old = damaged(stripChecksums);
    const router = await Router.load(old, { encoder, onWarning: (m) => warnings.push(m) });
    expect(router.labels).toHaveLength(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^${old}: unverified model: its manifest has no checksums`));
    expect(warnings[0]).not.toContain("\n");

    const nan = damaged((d) => {
      stripChecksums(d);
      const head = readFileSync(join(d, "head.bin"));
      head.writeFloatLE(Number.NaN, 4 * 17);
      writeFileSync(join(d, "head.bin"), head);
    });
    await expect(Router.load(nan, { encoder, onWarning: () => {} })).rejects.toThrow(`${join(nan, "head.bin")}: holds a non-finite weight (NaN at value 17)`);
    const zero = damaged((d) => {
      stripChecksums(d);
      zeroed(join(d, "centroids.bin"));
    });
    await expect(Router.load(zero, { encoder, onWarning: () => {} })).rejects.toThrow(`${join(zero, "centroids.bin")}: centroid 0 is not a unit vector`);
  });

  it("a reload to a corrupted artifact fails and the loaded model keeps answering", async () => {
    const router = await Router.load(trained.dir, { encoder });
    const before = await router.classify("Prove that there are infinitely many primes.");
    const bad = damaged((d) => sameSizeRandom(join(d, "head.bin")));
    await expect(router.reload(bad)).rejects.toThrow(join(bad, "head.bin"));
    const after = await router.classify("Prove that there are infinitely many primes.");
    expect(after.modelVersion).toBe(trained.manifest.version);
    expect(after.scores).toEqual(before.scores);
    expect(Object.values(after.scores).every(Number.isFinite)).toBe(true);
  });
});
