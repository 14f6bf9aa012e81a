/**
 * @module Fault-matrix group "artifact": trains a small model with a fast path on data/tiers in a
 * temporary directory, then damages a fresh copy of it in each of the ways a disk, a copy or a hand
 * can (same-size random head.bin, zeroed centroids.bin, truncated index.hnsw, deleted
 * examples.jsonl, an edited manifest, one flipped byte in the static stage) and loads it with
 * Router.load. A row passes when loading is refused with an error naming the damaged file; an intact
 * copy must load (so a check that refused everything would fail).
 *
 * Alone: `npx tsx scripts/chaos/artifacts.ts` prints the rows (exit 1 if any fails).
 */
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CachedEncoder } from "../../src/encoders/cache.js";
import { DEFAULT_CACHE_PATH } from "../../src/encoders/resolve.js";
import { UseEncoder } from "../../src/encoders/use/encoder.js";
import { Router } from "../../src/router/router.js";
import { train } from "../../src/train/train.js";
import type { ChaosGroup, ChaosRow } from "./types.js";

const ROOT = join(import.meta.dirname, "..", "..");
const TIERS = join(ROOT, "data", "tiers");
/** Examples per tier: enough for a fast path, small enough to train in well under a minute once cached. */
const PER_LABEL = 60;

interface Damage {
  fault: string;
  /** The file that must be named, relative to the artifact; undefined: the copy must load. */
  file?: string;
  apply(dir: string): void;
}

const DAMAGES: Damage[] = [
  { fault: "none (intact copy)", apply: () => {} },
  { fault: "same-size random head.bin", file: "head.bin", apply: (d) => sameSize(join(d, "head.bin"), (n) => randomBytes(n)) },
  { fault: "zeroed centroids.bin", file: "centroids.bin", apply: (d) => sameSize(join(d, "centroids.bin"), (n) => new Uint8Array(n)) },
  { fault: "truncated index.hnsw (half)", file: "index.hnsw", apply: (d) => truncateSync(join(d, "index.hnsw"), readFileSync(join(d, "index.hnsw")).length >> 1) },
  { fault: "deleted examples.jsonl", file: "examples.jsonl", apply: (d) => rmSync(join(d, "examples.jsonl")) },
  {
    fault: "edited manifest (margin threshold)",
    file: "manifest.json",
    apply: (d) => {
      const path = join(d, "manifest.json");
      const m = JSON.parse(readFileSync(path, "utf8")) as { calibration: { threshold: number } };
      m.calibration.threshold = 0.01;
      writeFileSync(path, JSON.stringify(m, null, 2) + "\n");
    },
  },
  { fault: "one flipped byte in static/encoder/static.bin", file: "static/encoder/static.bin", apply: (d) => flipByte(join(d, "static", "encoder", "static.bin")) },
];

function sameSize(path: string, bytes: (n: number) => Uint8Array): void {
  writeFileSync(path, bytes(readFileSync(path).length));
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1] ^= 0x01;
  writeFileSync(path, bytes);
}

function tierExamples(): { text: string; label: string }[] {
  const taken = new Map<string, number>();
  return readFileSync(join(TIERS, "train.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { text: string; label: string })
    .filter((e) => {
      const n = taken.get(e.label) ?? 0;
      taken.set(e.label, n + 1);
      return n < PER_LABEL;
    });
}

export const artifacts: ChaosGroup = async () => {
  const work = mkdtempSync(join(tmpdir(), "triage-chaos-artifacts-"));
  const use = await UseEncoder.load();
  // The fast path's distillation embeds ~8k vocabulary pieces: the project's embedding cache keeps reruns short.
  const encoder = new CachedEncoder(use, DEFAULT_CACHE_PATH);
  try {
    const model = join(work, "model");
    await train({ data: tierExamples(), config: join(TIERS, "tiers.yaml"), encoder, out: model, folds: 3, fastPath: "on" });
    const rows: ChaosRow[] = [];
    for (const [i, damage] of DAMAGES.entries()) {
      const dir = join(work, `copy-${i}`);
      cpSync(model, dir, { recursive: true });
      damage.apply(dir);
      const expected = damage.file ? `refused, naming ${damage.file}` : "loads, verified";
      let observed: string;
      let pass: boolean;
      try {
        const warnings: string[] = [];
        const router = await Router.load(dir, { encoder: use, onWarning: (m) => warnings.push(m) });
        await router.close();
        observed = `loaded ${router.version}${warnings.length ? ` (${warnings.join("; ")})` : ""}`;
        pass = damage.file === undefined && warnings.length === 0;
      } catch (err) {
        const message = (err as Error).message;
        observed = `refused: ${message.split(work).join("$TMP")}`;
        pass = damage.file !== undefined && message.includes(`${join(dir, damage.file)}: `);
      }
      rows.push({ group: "artifact", fault: damage.fault, expected, observed, pass });
    }
    return rows;
  } finally {
    await encoder.close?.();
    rmSync(work, { recursive: true, force: true });
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = performance.now();
  const rows = await artifacts();
  const cells = [["fault", "expected", "observed", "pass"], ...rows.map((r) => [r.fault, r.expected, r.observed, r.pass ? "yes" : "NO"])];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  for (const r of cells)
    process.stdout.write(
      r
        .map((v, c) => v.padEnd(widths[c]))
        .join("  ")
        .trimEnd() + "\n",
    );
  process.stderr.write(`${rows.filter((r) => r.pass).length}/${rows.length} passed in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
}
