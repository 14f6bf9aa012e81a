import { cpus, loadavg } from "node:os";
import { basename, dirname, join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { quantiles as percentiles } from "../common/stats.js";
import { TriageError } from "../common/errors.js";
import { readJsonlFile } from "../common/jsonl.js";
import { CachedEncoder } from "../encoders/cache.js";
import { DEFAULT_CACHE_PATH, encoderForArtifact } from "../encoders/resolve.js";
import { TimedEncoder } from "../encoders/timed.js";
import type { Encoder } from "../encoders/types.js";
import { Router } from "../router/router.js";
import { readManifest } from "../model/artifact.js";
import { hasArtifact } from "../model/files.js";
import { resolveModelDir } from "../model/registry.js";
import { readExamples } from "../model/load.js";
import type { Example } from "../train/data.js";
import type { Stage } from "../router/types.js";
import { train } from "../train/train.js";
import { loadExamples } from "../train/data.js";
import { loadBanking77, loadClinc150, type IntentDataset } from "./datasets.js";
import { evaluate } from "./evaluate.js";

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
}

/** One router variant on a dataset's test split, single queries, no repeats. */
export interface VariantBench {
  accuracy: number;
  macroF1: number;
  coverage: number;
  acceptedAccuracy: number;
  outOfScopeRecall?: number;
  latency: Quantiles;
  stages: Partial<Record<Stage, number>>;
}

export interface DatasetBench {
  dataset: string;
  trainExamples: number;
  testQueries: number;
  /** null when an existing model was reused (--dataset-models), or for the benched model itself. */
  trainSeconds: number | null;
  /**
   * CPU seconds of the training, all threads (head workers included); null with trainSeconds. On a
   * shared machine the wall time depends on the other load, this much less.
   */
  trainCpuSeconds?: number | null;
  /** The benched model itself on its test split (--test, or the shipped data/tiers/test.jsonl for a model of those tiers). */
  benchedModel?: true;
  /** The full encoder alone (cascade off) and the cascade (static fast path first), same model. */
  full: VariantBench;
  cascade?: VariantBench;
  /** The cascade at each operating point the artifact records (Router's fastPathTolerance), same test split. */
  operatingPoints?: (VariantBench & { tolerance: number })[];
  latencies: { full: number[]; cascade: number[] };
}

export interface BenchReport {
  createdAt: string;
  machine: { cpus: number; node: string; loadAverage: number[] };
  model: { dir: string; version: string; encoder: string };
  /**
   * Single-query classify latency per encoder, ms. With --datasets: measured on the third-party test
   * splits (realistic traffic, no repeats); `cascade` is the static fast path in front of the full encoder.
   */
  encoders: Record<string, Quantiles & { embed?: Quantiles; queries: number }>;
  /** Share of queries decided by each stage of the cascade. */
  stages?: Partial<Record<Stage, number>>;
  batch: { size: number; queriesPerSecond: number };
  training: { examples: number; seconds: number; examplesPerSecond: number; embedPerSecond: number };
  loadMs: number;
  peakRssMb: number;
  datasets: Omit<DatasetBench, "latencies">[];
  skipped: string[];
}

export interface BenchOptions {
  modelDir: string;
  /** Queries for the latency run; default: the model's examples plus the shipped test set, deduplicated. */
  queries?: string[];
  /** At least this many single-query calls (default 1,000). */
  singleQueries?: number;
  /** Examples (from the model's own) to time training on (default 400). */
  trainSample?: number;
  /** Also train and evaluate on these shared/ datasets when present (true: Banking77 and CLINC150). */
  datasets?: boolean | readonly string[];
  /** Keep the dataset models under this dir (one sub-dir per dataset) and reuse them when present, instead of training into a temp dir. */
  datasetModels?: string;
  /**
   * Labelled test data for the benched model itself (JSONL or CSV with text and label), measured like
   * the datasets (both routers' accuracy, latency, stage shares); default: the shipped
   * data/tiers/test.jsonl when the model's labels are those tiers'; null: none.
   */
  test?: string | null;
  /** Operating point of the cascade (Router's fastPathTolerance); default: the one chosen at training. */
  fastPathTolerance?: number;
  /** Also measure the cascade at every recorded operating point (one more pass over each test split per point). */
  operatingPoints?: boolean;
  log?: (line: string) => void;
}

/** p50 / p95 / p99 of unsorted latencies (NaN when there are none). */
function quantiles(values: readonly number[]): Quantiles {
  return percentiles(values, [50, 95, 99]);
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  // A registry benches its current version, as `route` and `serve` take either.
  const modelDir = resolveModelDir(options.modelDir);
  const manifest = readManifest(modelDir);
  const t0 = performance.now();
  const encoder = new TimedEncoder(await encoderForArtifact(manifest.encoder));
  // No exact-repeat cache: every timed query pays for its embedding.
  const router = await Router.load(modelDir, { encoder, cacheSize: 0 });
  const loadMs = performance.now() - t0;
  const examples = readExamples(modelDir);
  const pool = options.queries ?? [...new Set([...examples.map((e) => e.text), ...shippedTestTexts()])];
  const wanted = options.singleQueries ?? Math.max(1000, pool.length);

  log(`single-query latency: ${wanted} queries with ${encoder.id}`);
  const single = await singleQueryLatency(router, encoder, pool, wanted);

  log("batch throughput");
  const batchSize = 64;
  const batchTexts = pool.slice(0, batchSize * 4);
  const tb = performance.now();
  for (let i = 0; i < batchTexts.length; i += batchSize) await router.classifyBatch(batchTexts.slice(i, i + batchSize));
  const batchQps = batchTexts.length / ((performance.now() - tb) / 1000);

  log("training throughput (uncached embedding + fit)");
  const sample = examples.slice(0, options.trainSample ?? 400);
  const out = mkdtempSync(join(tmpdir(), "triage-bench-"));
  const tt = performance.now();
  const trained = await train({ data: sample, config: manifest.config, encoder, out: join(out, "m") });
  const trainSeconds = (performance.now() - tt) / 1000;
  rmSync(out, { recursive: true, force: true });

  const report: BenchReport = {
    createdAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() },
    model: { dir: options.modelDir, version: router.version, encoder: encoder.id },
    encoders: { [encoder.id]: { ...single.total, embed: single.embed, queries: wanted } },
    batch: { size: batchSize, queriesPerSecond: batchQps },
    training: { examples: sample.length, seconds: trainSeconds, examplesPerSecond: sample.length / trainSeconds, embedPerSecond: sample.length / trained.seconds.embed },
    loadMs,
    peakRssMb: 0,
    datasets: [],
    skipped: [],
  };
  await router.close();

  const test = options.test === undefined ? shippedTestFor(manifest.labels) : options.test;
  if (test) {
    const examples = loadExamples(test).examples;
    if (examples.length === 0) throw new TriageError(`${test}: no labelled examples to test the model on`, "E_DATA");
    log(`${test}: the model on its test split`);
    const { latencies: _, ...measured } = await measureModel(modelDir, { name: basename(options.modelDir), test: examples }, encoder, options, log);
    report.datasets.push({ ...measured, trainSeconds: null, benchedModel: true });
  }

  if (options.datasets) {
    const pooled = { full: [] as number[], cascade: [] as number[] };
    const stageCounts: Partial<Record<Stage, number>> = {};
    let cascadeQueries = 0;
    const loaders = { banking77: loadBanking77, clinc150: loadClinc150 };
    const names = options.datasets === true ? Object.keys(loaders) : options.datasets;
    for (const name of names) {
      const load = loaders[name as keyof typeof loaders];
      if (!load) throw new TriageError(`unknown dataset "${name}": use ${Object.keys(loaders).join(", ")}`);
      const r = load();
      if (!r.dataset) {
        report.skipped.push(r.skipped);
        log(r.skipped);
        continue;
      }
      const { latencies, ...result } = await benchDataset(r.dataset, await encoderForArtifact(manifest.encoder), options, log);
      report.datasets.push(result);
      pooled.full.push(...latencies.full);
      pooled.cascade.push(...latencies.cascade);
      for (const [stage, share] of Object.entries(result.cascade?.stages ?? {})) stageCounts[stage as Stage] = (stageCounts[stage as Stage] ?? 0) + share * result.testQueries;
      if (result.cascade) cascadeQueries += result.testQueries;
    }
    if (pooled.full.length) report.encoders[encoder.id] = { ...quantiles(pooled.full), embed: report.encoders[encoder.id].embed, queries: pooled.full.length };
    if (pooled.cascade.length) {
      report.encoders.cascade = { ...quantiles(pooled.cascade), queries: pooled.cascade.length };
      report.stages = Object.fromEntries(Object.entries(stageCounts).map(([k, v]) => [k, v / cascadeQueries]));
    }
  }
  report.peakRssMb = process.resourceUsage().maxRSS / 1024;
  return report;
}

async function singleQueryLatency(router: Router, encoder: TimedEncoder, pool: readonly string[], n: number) {
  // Warm up the encoder graph and V8 before measuring.
  for (const q of pool.slice(0, 20)) await router.classify(q);
  const total: number[] = [];
  const embed: number[] = [];
  for (let i = 0; i < n; i++) {
    encoder.lastMs = 0;
    const d = await router.classify(pool[i % pool.length]);
    total.push(d.latencyMs);
    embed.push(encoder.lastMs);
  }
  return { total: quantiles(total), embed: quantiles(embed) };
}

async function benchDataset(ds: IntentDataset, encoder: Encoder, options: BenchOptions, log: (l: string) => void): Promise<DatasetBench> {
  const out = options.datasetModels ? join(options.datasetModels, ds.name) : join(mkdtempSync(join(tmpdir(), `triage-${ds.name}-`)), "m");
  let trainSeconds: number | null = null;
  let trainCpuSeconds: number | null = null;
  if (options.datasetModels && hasArtifact(out)) log(`${ds.name}: reusing the model in ${out}`);
  else {
    log(`${ds.name}: training on ${ds.train.length} examples`);
    // Training goes through the on-disk cache (re-runs are quick); the routers measured below do not.
    const cached = new CachedEncoder(encoder, DEFAULT_CACHE_PATH);
    const t = performance.now();
    const cpu = process.cpuUsage();
    await train({
      data: ds.train,
      encoder: cached,
      out,
      onWarning: log,
      onProgress: (p) => p.phase !== "embed" && log(`${ds.name}: ${p.phase === "crossval" ? `fold ${p.fold}/${p.folds}` : p.phase === "fast-path" ? p.message : p.phase}`),
    });
    trainSeconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    trainCpuSeconds = (used.user + used.system) / 1e6;
  }
  const measured = await measureModel(out, { ...ds, trainExamples: ds.train.length }, encoder, options, log);
  if (!options.datasetModels) rmSync(dirname(out), { recursive: true, force: true });
  return { ...measured, trainSeconds, trainCpuSeconds };
}

/**
 * The model in `dir` on a labelled test split, one query at a time: the full encoder alone, then the
 * cascade (when the model has a fast path), then each recorded operating point if asked.
 */
async function measureModel(
  out: string,
  ds: Pick<IntentDataset, "name" | "test"> & { trainExamples?: number },
  encoder: Encoder,
  options: BenchOptions,
  log: (l: string) => void,
): Promise<Omit<DatasetBench, "trainSeconds">> {
  const latencies = { full: [] as number[], cascade: [] as number[] };
  const variant = async (cascade: boolean, fastPathTolerance = options.fastPathTolerance, record = true): Promise<VariantBench> => {
    const router = await Router.load(out, { encoder, cascade, cacheSize: 0, fastPathTolerance });
    const point = fastPathTolerance === undefined ? "" : ` at tolerance ${fastPathTolerance}`;
    log(`${ds.name}: ${ds.test.length} test queries one at a time, ${cascade ? `cascade${point}` : "full encoder only"}`);
    const r = await evaluate(router, ds.test, { batchSize: 1, onDecision: (d) => record && latencies[cascade ? "cascade" : "full"].push(d.latencyMs) });
    const hasStatic = router.manifest.stages?.static !== undefined;
    await router.close();
    if (cascade && !hasStatic) latencies.cascade.length = 0;
    return {
      accuracy: r.accuracy,
      macroF1: r.macroF1,
      coverage: r.coverage,
      acceptedAccuracy: r.acceptedAccuracy,
      ...(r.outOfScope ? { outOfScopeRecall: r.outOfScope.recall } : {}),
      latency: r.latency,
      stages: r.stages,
    };
  };
  const full = await variant(false);
  const cascade = await variant(true);
  const hasCascade = latencies.cascade.length > 0;
  const curve = hasCascade && options.operatingPoints ? (readManifest(out).stages?.static?.curve ?? []) : [];
  const operatingPoints = [];
  for (const { tolerance } of curve) operatingPoints.push({ tolerance, ...(await variant(true, tolerance, false)) });
  return {
    dataset: ds.name,
    trainExamples: ds.trainExamples ?? readManifest(out).data.examples,
    testQueries: ds.test.length,
    full,
    ...(hasCascade ? { cascade } : {}),
    ...(operatingPoints.length ? { operatingPoints } : {}),
    latencies,
  };
}

const SHIPPED_TEST = join(import.meta.dirname, "..", "..", "data", "tiers", "test.jsonl");

/** The shipped tiers' test split, for a model trained on those tiers (the same labels). */
function shippedTestFor(labels: readonly string[]): string | null {
  try {
    const shipped = new Set(loadExamples(SHIPPED_TEST).examples.map((e) => e.label));
    return labels.length === shipped.size && labels.every((l) => shipped.has(l)) ? SHIPPED_TEST : null;
  } catch {
    return null;
  }
}

function shippedTestTexts(): string[] {
  try {
    const path = join(import.meta.dirname, "..", "..", "data", "tiers", "test.jsonl");
    return readJsonlFile(path).map((e) => (e as unknown as Example).text);
  } catch {
    return [];
  }
}
