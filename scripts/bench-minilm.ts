/**
 * @module scripts/bench-minilm
 * MiniLM two ways on the same model folder: OnnxEncoder (our tokenizer, onnxruntime-node, our pooling)
 * against PipelineEncoder (@huggingface/transformers' feature-extraction pipeline on the same
 * onnxruntime-node). The folder holds the real all-MiniLM-L6-v2 tokenizer from ../shared and the tiny
 * BERT-shaped graph the tests build (test/helpers/tiny-onnx.ts) at MiniLM's vocabulary and width, so
 * what is measured is what differs between the paths (tokenising, feeds, pooling, call overhead), not
 * the six transformer layers both would run identically.
 *
 * Each path runs in a fresh child process (clean load time and memory), alternating over rounds so
 * drift on a shared machine hits both alike. Vectors are compared query by query.
 *   npx tsx scripts/bench-minilm.ts [--queries 2000] [--long 64] [--rounds 3] [--threads 1] [--out reports]
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sharedPath } from "../src/common/shared.js";
import { percentile } from "../src/common/stats.js";
import type { Encoder } from "../src/encoders/types.js";
import { loadClinc150 } from "../src/eval/datasets.js";
import { buildTinyModel } from "../test/helpers/tiny-onnx.js";

const PATHS = ["direct", "library"] as const;
type PathName = (typeof PATHS)[number];
const LABEL: Record<PathName, string> = { direct: "onnxruntime-node direct (OnnxEncoder)", library: "transformers.js pipeline (PipelineEncoder)" };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
function intArg(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${arg(name, "")}`);
  return v;
}

/** What one child reports; vectors go to a side file. */
interface WorkerResult {
  path: PathName;
  loadMs: number;
  rssBaseMB: number;
  rssLoadedMB: number;
  peakRssMB: number;
  singleMs: number[];
  batchTextsPerSec: number;
  dimensions: number;
}

async function worker(path: PathName, dir: string, textsFile: string, vectorsFile: string, threads: number): Promise<void> {
  const rssBase = process.memoryUsage().rss;
  const { queries, long } = JSON.parse(readFileSync(textsFile, "utf8")) as { queries: string[]; long: string[] };
  const t0 = performance.now();
  const encoder: Encoder =
    path === "direct"
      ? await (await import("../src/encoders/onnx/encoder.js")).OnnxEncoder.load(dir, { threads })
      : await (await import("../src/encoders/onnx/pipeline.js")).PipelineEncoder.load(dir, { threads });
  const loadMs = performance.now() - t0;
  const rssLoaded = process.memoryUsage().rss;

  for (const q of queries.slice(0, 50)) await encoder.embed([q]); // warm-up
  const singleMs: number[] = [];
  const single: Float32Array[] = [];
  for (const q of queries) {
    const s = performance.now();
    const [v] = await encoder.embed([q]);
    singleMs.push(performance.now() - s);
    single.push(v);
  }
  const b0 = performance.now();
  const batch = await encoder.embed(queries);
  const batchTextsPerSec = queries.length / ((performance.now() - b0) / 1000);
  const longVectors = await encoder.embed(long);
  await encoder.close?.();

  const all = [...single, ...batch, ...longVectors];
  const flat = new Float32Array(all.length * encoder.dimensions);
  all.forEach((v, i) => flat.set(v, i * encoder.dimensions));
  writeFileSync(vectorsFile, flat);
  const result: WorkerResult = {
    path,
    loadMs,
    rssBaseMB: rssBase / 1e6,
    rssLoadedMB: rssLoaded / 1e6,
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
    singleMs,
    batchTextsPerSec,
    dimensions: encoder.dimensions,
  };
  process.stdout.write(JSON.stringify(result));
}

function runWorker(path: PathName, dir: string, textsFile: string, vectorsFile: string, threads: number): Promise<WorkerResult> {
  const script = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, script, "--worker", path, "--dir", dir, "--texts", textsFile, "--vectors", vectorsFile, "--threads", String(threads)];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${path} worker exited with code ${code}`));
      try {
        resolvePromise(JSON.parse(out) as WorkerResult);
      } catch (err) {
        reject(new Error(`${path} worker printed no result: ${(err as Error).message}`));
      }
    });
  });
}

function readVectors(file: string, dim: number): Float32Array[] {
  const buf = readFileSync(file);
  const flat = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return Array.from({ length: flat.length / dim }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k], 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Token ids each path feeds the model: identical for queries; for long texts, whether [SEP] survives truncation. */
async function compareTokenIds(dir: string, queries: string[], long: string[]) {
  const { HfTokenizer } = await import("../src/encoders/tokenizers/hf.js");
  const { PipelineEncoder } = await import("../src/encoders/onnx/pipeline.js");
  const direct = HfTokenizer.load(dir, 256);
  const untruncated = HfTokenizer.load(dir, 100_000);
  const short = long.filter((t) => untruncated.encode(t).ids.length <= 256);
  if (short.length > 0) throw new Error(`${short.length} of the long texts are not over 256 tokens`);
  const library = await PipelineEncoder.load(dir, { threads: 1 });
  const sep = direct.tokenToId("[SEP]");
  const same = (t: string) => JSON.stringify(direct.encode(t).ids) === JSON.stringify(library.tokenIds(t));
  const result = {
    queriesSame: queries.filter(same).length,
    longSame: long.filter(same).length,
    longDirectEndsSep: long.filter((t) => direct.encode(t).ids.at(-1) === sep).length,
    longLibraryEndsSep: long.filter((t) => library.tokenIds(t).at(-1) === sep).length,
  };
  await library.close();
  return result;
}

/** Medians over rounds of each path's figures. */
function summarise(p: PathName, rs: WorkerResult[]) {
  const lat = rs.map((x) => [...x.singleMs].sort((a, b) => a - b));
  return {
    label: LABEL[p],
    p50Ms: median(lat.map((l) => percentile(l, 50))),
    p99Ms: median(lat.map((l) => percentile(l, 99))),
    batchTextsPerSec: median(rs.map((x) => x.batchTextsPerSec)),
    loadMs: median(rs.map((x) => x.loadMs)),
    loadedRssMB: median(rs.map((x) => x.rssLoadedMB - x.rssBaseMB)),
    peakRssMB: median(rs.map((x) => x.peakRssMB)),
    perRound: rs.map(({ singleMs, ...rest }, i) => ({ ...rest, p50Ms: percentile(lat[i], 50), p99Ms: percentile(lat[i], 99) })),
  };
}

/** Texts well past 256 tokens: consecutive test queries glued together. */
function longTexts(queries: string[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: 80 }, (_, k) => queries[(i * 80 + k) % queries.length]).join(" "));
}

async function main(): Promise<void> {
  const nQueries = intArg("queries", 2000);
  const nLong = intArg("long", 64);
  const rounds = intArg("rounds", 3);
  const threads = intArg("threads", 1);
  const outDir = resolve(arg("out", "reports"));

  const minilm = sharedPath("models", "all-MiniLM-L6-v2");
  const clinc = loadClinc150();
  if (!minilm.path || !clinc.dataset) {
    console.log(`bench-minilm: skipped: ${minilm.path ? "" : `MiniLM tokenizer (${minilm.missing}) `}${clinc.dataset ? "" : clinc.skipped}`);
    return;
  }
  const queries = clinc.dataset.test.slice(0, nQueries).map((e) => e.text);
  const long = longTexts(queries, nLong);

  const work = mkdtempSync(join(tmpdir(), "triage-bench-minilm-"));
  try {
    const dir = join(work, "all-MiniLM-L6-v2");
    mkdirSync(join(dir, "onnx"), { recursive: true });
    for (const f of ["tokenizer.json", "tokenizer_config.json", "config.json", "special_tokens_map.json", "vocab.txt"]) copyFileSync(join(minilm.path, f), join(dir, f));
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { vocab_size: number; hidden_size: number };
    const model = buildTinyModel({ vocabSize: config.vocab_size, dim: config.hidden_size, tokenTypes: true });
    writeFileSync(join(dir, "onnx", "model.onnx"), model.bytes);
    const textsFile = join(work, "texts.json");
    writeFileSync(textsFile, JSON.stringify({ queries, long }));

    const results: Record<PathName, WorkerResult[]> = { direct: [], library: [] };
    const vectorFiles: Record<PathName, string> = { direct: join(work, "direct.f32"), library: join(work, "library.f32") };
    for (let r = 0; r < rounds; r++) {
      // Alternate which path goes first, so neither always runs on a warmer machine.
      for (const p of r % 2 === 0 ? PATHS : [...PATHS].reverse()) {
        process.stderr.write(`round ${r + 1}/${rounds}: ${p}\n`);
        results[p].push(await runWorker(p, dir, textsFile, vectorFiles[p], threads));
      }
    }

    const dim = results.direct[0].dimensions;
    const v = { direct: readVectors(vectorFiles.direct, dim), library: readVectors(vectorFiles.library, dim) };
    const n = queries.length;
    const cosines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => dot(v.direct[from + i], v.library[from + i]));
    const singleCos = cosines(0, n);
    const batchCos = cosines(n, 2 * n);
    const longCos = cosines(2 * n, 2 * n + long.length);
    const selfCos = (p: PathName) => Math.min(...Array.from({ length: n }, (_, i) => dot(v[p][i], v[p][n + i])));

    const summary = { direct: summarise("direct", results.direct), library: summarise("library", results.library) };
    const agreement = {
      singleMinCos: Math.min(...singleCos),
      singleBelow: singleCos.filter((c) => c <= 0.9999).length,
      batchMinCos: Math.min(...batchCos),
      batchBelow: batchCos.filter((c) => c <= 0.9999).length,
      longMinCos: Math.min(...longCos),
      longMedianCos: median(longCos),
      longBelow: longCos.filter((c) => c <= 0.9999).length,
      directBatchVsSingleMinCos: selfCos("direct"),
      libraryBatchVsSingleMinCos: selfCos("library"),
    };
    const tokens = await compareTokenIds(dir, queries, long);
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", loadavg: loadavg(), node: process.version };
    const report = {
      createdAt: new Date().toISOString(),
      setup: {
        queries: n,
        longTexts: long.length,
        rounds,
        threads,
        model: `tiny BERT-shaped graph, vocab ${config.vocab_size}, dim ${dim}; real all-MiniLM-L6-v2 tokenizer`,
        queriesFrom: "CLINC150 test split",
      },
      machine,
      summary,
      agreement,
      tokens,
    };

    const f = (x: number, d = 2) => x.toFixed(d);
    const rows = PATHS.map((p) => {
      const s = summary[p];
      return `| ${s.label} | ${f(s.p50Ms, 3)} | ${f(s.p99Ms, 3)} | ${f(s.batchTextsPerSec, 0)} | ${f(s.loadMs, 0)} | ${f(s.loadedRssMB, 0)} | ${f(s.peakRssMB, 0)} |`;
    });
    const md = [
      `# MiniLM: onnxruntime-node direct vs @huggingface/transformers pipeline`,
      ``,
      `${n} CLINC150 test queries one at a time and in batches of 32, plus ${long.length} texts over 256 tokens; ${threads} intra-op thread(s); median of ${rounds} rounds, each path in a fresh process. Model: ${report.setup.model}.`,
      ``,
      `| path | p50 ms | p99 ms | batch texts/s | load ms | RSS after load MB | peak RSS MB |`,
      `|---|---:|---:|---:|---:|---:|---:|`,
      ...rows,
      ``,
      `Same vectors? cosine(direct, library) per text:`,
      `- one at a time: min ${f(agreement.singleMinCos, 7)}, ${agreement.singleBelow} of ${n} at or below 0.9999`,
      `- batched: min ${f(agreement.batchMinCos, 7)}, ${agreement.batchBelow} of ${n} at or below 0.9999`,
      `- over 256 tokens: min ${f(agreement.longMinCos, 5)}, median ${f(agreement.longMedianCos, 5)}, ${agreement.longBelow} of ${long.length} at or below 0.9999`,
      `- batched vs one at a time, same path: direct min ${f(agreement.directBatchVsSingleMinCos, 7)}, library min ${f(agreement.libraryBatchVsSingleMinCos, 7)}`,
      ``,
      `Same token ids? ${tokens.queriesSame} of ${n} queries; ${tokens.longSame} of ${long.length} texts over 256 tokens (direct ends them with [SEP] ${tokens.longDirectEndsSep} times, the library ${tokens.longLibraryEndsSep} times).`,
      `The tiny graph has no attention, so one missing token moves a 256-token mean very little; in MiniLM every token attends to [SEP].`,
      ``,
      `Machine: ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadavg.map((x) => x.toFixed(2)).join(" ")}, Node ${machine.node}.`,
      ``,
    ].join("\n");
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "bench-minilm.json"), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, "bench-minilm.md"), md);
    process.stdout.write(md);
    process.stderr.write(`wrote ${join(outDir, "bench-minilm.json")} and ${join(outDir, "bench-minilm.md")}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv.includes("--worker")) {
  const path = arg("worker", "") as PathName;
  if (!PATHS.includes(path)) throw new Error(`--worker must be one of ${PATHS.join(", ")}`);
  await worker(path, arg("dir", ""), arg("texts", ""), arg("vectors", ""), intArg("threads", 1));
} else {
  await main();
}
