/**
 * How `triage train --outcomes` grows with the outcome data: wall time (embedding, then cross-validation and
 * fitting) and the process's peak memory, for several sizes of one synthetic outcome set.
 *
 * The prompts are real and distinct: Banking77, CLINC150 and MMLU texts from ../shared (47,518 in all).
 * Their outcomes are made up, for three models, so any size can be had: each prompt's label (intent or MMLU
 * subject) gets a difficulty d from its name, and `small`, `medium` and `large` answer well with
 * probability 1 − d, 1 − 0.6d and 1 − 0.2d (seeded). Each size runs the CLI from dist/ in its own process
 * with a fresh embedding cache (so embedding is timed cold, as on a first train), and a preloaded module
 * reports the process's peak RSS (worker threads included) as it exits.
 * Writes reports/bench-outcomes-scale.json and .md (-cvN with `--cv-repeats N`).
 * `--cv-repeats N` is passed on to `train` (fold partitions the estimator is chosen over; default: train's own,
 * which depends on the size).
 *   npm run build && npx tsx scripts/bench-outcomes-scale.ts [--sizes 5000,20000,45000] [--cv-repeats N] [--threads N]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sha256 } from "../src/common/hash.js";
import { seededRandom } from "../src/common/random.js";
import { PROJECT_ROOT, sharedPath } from "../src/common/shared.js";
import { loadBanking77, loadClinc150 } from "../src/eval/datasets.js";
import { loadOutcomes } from "../src/outcomes/load.js";
import { arg } from "./lib/args.js";

const sizes = arg("sizes", "5000,20000,45000").split(",").map(Number);
const threads = arg("threads", "");
const cvRepeats = arg("cv-repeats", "");
const log = (m: string) => process.stderr.write(`${m}\n`);

const banking = loadBanking77();
const clinc = loadClinc150();
const mmlu = sharedPath("datasets", "routellm", "mmlu");
if (!banking.dataset || !clinc.dataset || !mmlu.path) {
  console.log(`bench-outcomes-scale: skipped: ${[banking.skipped, clinc.skipped, mmlu.missing].filter(Boolean).join("; ")}`);
  process.exit(0);
}

// Every distinct text with its label, in a seeded order.
const labelled = new Map<string, string>();
for (const d of [banking.dataset, clinc.dataset]) for (const e of [...d.train, ...d.test]) labelled.set(e.text, `${d.name}:${e.label}`);
for (const p of loadOutcomes(mmlu.path).prompts) labelled.set(p.text, `mmlu:${p.id.split(":")[0]}`);
const rand = seededRandom(7);
const rows = [...labelled].map(([text, label]) => ({ text, label, key: rand() })).sort((a, b) => a.key - b.key);
const largest = Math.max(...sizes);
if (largest > rows.length) throw new Error(`--sizes: at most ${rows.length} distinct prompts are available, ${largest} asked`);

const MODELS = [
  { name: "small", cost: 0.0001, fails: 1 },
  { name: "medium", cost: 0.001, fails: 0.6 },
  { name: "large", cost: 0.01, fails: 0.2 },
];
const difficulty = (label: string) => Number.parseInt(sha256(label).slice(0, 8), 16) / 0xffffffff;

function writeOutcomes(path: string, n: number): void {
  const draw = seededRandom(11);
  const lines = rows.slice(0, n).map((r, i) => {
    const d = difficulty(r.label);
    const scores = Object.fromEntries(MODELS.map((m) => [m.name, draw() < 1 - m.fails * d ? 1 : 0]));
    const costs = Object.fromEntries(MODELS.map((m) => [m.name, m.cost]));
    return JSON.stringify({ id: `p${i}`, prompt: r.text, scores, costs });
  });
  writeFileSync(path, `${lines.join("\n")}\n`);
}

interface Run {
  prompts: number;
  cvRepeats: number;
  embedSeconds: number;
  fitSeconds: number;
  totalSeconds: number;
  peakRssMB: number;
  estimator: string;
}

/** Runs `train --outcomes` on `file` (`prompts` of them) in a child process: phase times from when its progress lines arrive, and its peak RSS. */
function train(file: string, prompts: number, out: string, cache: string): Promise<Run> {
  const started = performance.now();
  let cvAt = 0;
  let stderr = "";
  const env = { ...process.env, NODE_OPTIONS: `--import=${join(PROJECT_ROOT, "scripts/lib/report-peak-rss.mjs")}`, ...(threads ? { TRIAGE_TRAIN_THREADS: threads } : {}) };
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, "bin/triage.js"), "train", "--outcomes", file, "--out", out, "--cache", cache, "--encoder", "use", ...(cvRepeats ? ["--cv-repeats", cvRepeats] : [])],
    { env },
  );
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!cvAt && stderr.includes("cross-validating the estimator")) cvAt = performance.now();
  });
  return new Promise((done, fail) => {
    child.on("close", (code) => {
      const end = performance.now();
      // Worker threads print theirs as they end too: the largest is the process's.
      const peaks = [...stderr.matchAll(/peak-rss-kb (\d+)/g)].map((m) => Number(m[1]));
      if (code !== 0 || peaks.length === 0) return fail(new Error(`train --outcomes exited ${code}:\n${stderr.slice(0, 2000)}`));
      const chosen = /chosen (\w+)/.exec(stderr)?.[1] ?? "?";
      done({
        prompts,
        cvRepeats: (JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { outcomes: { cv: { repeats: number } } }).outcomes.cv.repeats,
        embedSeconds: (cvAt - started) / 1000,
        fitSeconds: (end - cvAt) / 1000,
        totalSeconds: (end - started) / 1000,
        peakRssMB: Math.max(...peaks) / 1024,
        estimator: chosen,
      });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), "triage-bench-outcomes-"));
const runs: Run[] = [];
try {
  for (const n of sizes) {
    const file = join(work, `outcomes-${n}.jsonl`);
    writeOutcomes(file, n);
    log(`training on ${n.toLocaleString("en-US")} prompts ...`);
    const run = await train(file, n, join(work, `model-${n}`), join(work, `cache-${n}.sqlite`));
    log(`  embedding ${run.embedSeconds.toFixed(1)} s, cross-validation and fit ${run.fitSeconds.toFixed(1)} s, peak ${run.peakRssMB.toFixed(0)} MB (${run.estimator})`);
    runs.push(run);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const machine = { cpus: cpus().length, node: process.version, loadAverage: loadavg() };
const header = "| prompts | fold partitions | embedding (cold cache) | cross-validation + fit | total | per 1,000 prompts | peak memory | estimator chosen |";
const lines = [
  "# `train --outcomes` at scale",
  "",
  `Machine: ${machine.cpus} CPUs, Node ${machine.node}, load average ${machine.loadAverage.map((x) => x.toFixed(1)).join(" / ")}. Three models, synthetic outcomes on real prompts (scripts/bench-outcomes-scale.ts).`,
  "",
  header,
  "|---|---|---|---|---|---|---|---|",
  ...runs.map(
    (r) =>
      `| ${r.prompts.toLocaleString("en-US")} | ${r.cvRepeats} | ${r.embedSeconds.toFixed(1)} s | ${r.fitSeconds.toFixed(1)} s | ${r.totalSeconds.toFixed(1)} s | ${((r.totalSeconds / r.prompts) * 1000).toFixed(1)} s | ${r.peakRssMB.toFixed(0)} MB | ${r.estimator} |`,
  ),
];
const outDir = resolve(PROJECT_ROOT, "reports");
mkdirSync(outDir, { recursive: true });
const name = cvRepeats ? `bench-outcomes-scale-cv${cvRepeats}` : "bench-outcomes-scale";
writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify({ machine, runs }, null, 2)}\n`);
writeFileSync(join(outDir, `${name}.md`), `${lines.join("\n")}\n`);
console.log(lines.join("\n"));
