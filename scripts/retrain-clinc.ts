/**
 * The learning-loop experiment on CLINC150 (issue #3): train on 20 % of the training split (stratified,
 * seeded), route the other 80 % as "traffic" with policy fallback against a simulated labeller (a fake
 * OpenAI-compatible server on 127.0.0.1 that answers the true label), log to SQLite, retrain from the
 * logs, and compare in-scope accuracy and out-of-scope recall on the test split before and after.
 * Also measures classify latency with the decision log on vs off, in the same run.
 *
 *   npx tsx scripts/retrain-clinc.ts        (writes reports/retrain-clinc.json)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedPath } from "../src/common/shared.js";
import { routesConfigSchema } from "../src/config/schema.js";
import { resolveEncoder } from "../src/encoders/resolve.js";
import { evaluate, type EvalReport } from "../src/eval/evaluate.js";
import { LlmClassifier } from "../src/fallback/index.js";
import { trainIntoRegistry } from "../src/retrain/publish.js";
import { retrain } from "../src/retrain/retrain.js";
import { Router } from "../src/router/router.js";
import { DecisionLog } from "../src/store/index.js";
import type { Example } from "../src/train/data.js";
import { startFakeOpenAI } from "../test/helpers/fake-openai.js";

const SEED = 7;
const TRAIN_SHARE = 0.2;
const LATENCY_SAMPLE = 600;

const dir = sharedPath("datasets", "clinc150");
if (!dir.path) {
  console.log(`retrain-clinc: skipped, ${dir.missing}`);
  process.exit(0);
}
const raw = JSON.parse(readFileSync(join(dir.path, "data_full.json"), "utf8")) as Record<string, [string, string][]>;
const rows = (key: string): Example[] => raw[key].map(([text, label]) => ({ text, label }));
const trainSplit = rows("train");
const val = rows("val");
const test = [...rows("test"), ...rows("oos_test")];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}
const random = rng(SEED);
const byLabel = new Map<string, Example[]>();
for (const e of trainSplit) byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), e]);
const base: Example[] = [];
const traffic: Example[] = [];
for (const [, list] of [...byLabel].sort(([a], [b]) => a.localeCompare(b))) {
  const shuffled = shuffle([...list], random);
  const n = Math.round(list.length * TRAIN_SHARE);
  base.push(...shuffled.slice(0, n));
  traffic.push(...shuffled.slice(n));
}
shuffle(traffic, random); // traffic arrives mixed
const labels = [...byLabel.keys()].sort();
const truth = new Map(trainSplit.map((e) => [e.text, e.label]));

const t0 = performance.now();
const log = (m: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${m}`);
const work = mkdtempSync(join(tmpdir(), "triage-retrain-clinc-"));
const registry = join(work, "models", "clinc");
const logPath = join(work, "decisions.db");
const { encoder, ref } = await resolveEncoder({ spec: "use" });
const config = routesConfigSchema.parse({ ordered: false, labels: labels.map((name) => ({ name })), policy: { lowConfidence: "fallback" } });

log(`training v0001 on ${base.length} examples (${TRAIN_SHARE * 100}% of train, stratified, seed ${SEED})`);
// The fast path (distilled static stage) is off: this measures the learning loop, and distillation would
// multiply the run time on a shared machine.
await trainIntoRegistry(registry, {
  data: base,
  config,
  encoder,
  encoderRef: ref,
  seed: SEED,
  fastPath: "off",
  onProgress: (p) => p.phase !== "embed" && log(`train: ${JSON.stringify(p)}`),
});

const fake = await startFakeOpenAI({
  handler: (req) => {
    const messages = (req.body as { messages?: { role: string; content: string }[] }).messages ?? [];
    const query = messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
    const label = truth.get(query);
    return label ? { type: "content", content: JSON.stringify({ label }) } : { type: "error", status: 500, message: "unknown query" };
  },
});
const fallback = new LlmClassifier({ baseURL: fake.baseURL, model: "labeller", timeoutMs: 10_000, maxExamples: 3 });
const decisions = DecisionLog.open(logPath);
const before = await Router.load(registry, { encoder });
const beforeTest = await evaluate(before, test);
log(`before: in-scope accuracy ${pct(beforeTest.accuracy)}, oos recall ${pct(beforeTest.outOfScope?.recall ?? 0)}`);

log(`routing ${traffic.length} traffic queries with policy fallback`);
const routing = await Router.load(registry, { encoder, fallback, sink: decisions });
const decidedBy: Record<string, number> = {};
let trafficCorrect = 0;
for (let i = 0; i < traffic.length; i += 64) {
  const chunk = traffic.slice(i, i + 64);
  const ds = await routing.classifyBatch(chunk.map((e) => e.text));
  ds.forEach((d, k) => {
    decidedBy[d.decidedBy] = (decidedBy[d.decidedBy] ?? 0) + 1;
    if (d.label === chunk[k].label) trafficCorrect++;
  });
}
decisions.flush();
const fallbackCalls = fake.chatRequests().length;
log(`traffic: ${JSON.stringify(decidedBy)}, ${fallbackCalls} fallback calls`);

// Latency with the log on vs off, interleaved in the same run (same router state, same cached embeddings).
const latencyLog = DecisionLog.open(join(work, "latency.db"));
const withLog = await Router.load(registry, { encoder, sink: latencyLog, lowConfidence: "escalate" });
const withoutLog = await Router.load(registry, { encoder, lowConfidence: "escalate" });
const sample = test.slice(0, LATENCY_SAMPLE);
await withLog.classifyBatch(sample.map((e) => e.text)); // warm the embedding cache for both
const on: number[] = [];
const off: number[] = [];
for (const [i, e] of sample.entries()) {
  const order = i % 2 ? [withLog, withoutLog] : [withoutLog, withLog];
  for (const r of order) {
    const s = performance.now();
    await r.classify(e.text);
    (r === withLog ? on : off).push(performance.now() - s);
  }
}
latencyLog.close();
const latency = { sample: sample.length, on: summary(on), off: summary(off), ratioP50: median(on) / median(off), ratioMean: mean(on) / mean(off) };
log(`latency: log on p50 ${latency.on.p50.toFixed(3)} ms, off ${latency.off.p50.toFixed(3)} ms, ratio ${latency.ratioP50.toFixed(3)}`);

log("retraining from the log");
const report = await retrain({
  registry,
  baseData: base,
  logDb: logPath,
  evalData: val,
  heldOut: { share: 0 },
  encoder,
  encoderRef: ref,
  seed: SEED,
  fastPath: "off",
  onProgress: log,
});
log(report.reason);
const after = await Router.load(registry, { encoder });
const afterTest = await evaluate(after, test);
const again = await evaluate(after, traffic); // the same traffic: how much of it would still go to the LLM
decisions.close();
await fake.close();

const result = {
  dataset: "clinc150",
  seed: SEED,
  encoder: ref.id,
  sizes: { base: base.length, traffic: traffic.length, val: val.length, test: test.length, labels: labels.length },
  before: metrics(beforeTest, before.version, before.manifest.data.examples),
  after: metrics(afterTest, after.version, after.manifest.data.examples),
  traffic: {
    decidedBy,
    fallbackCalls,
    fallbackRate: fallbackCalls / traffic.length,
    routedAccuracy: trafficCorrect / traffic.length,
    lowConfidenceShareAfterRetrain: 1 - again.coverage,
  },
  retrain: {
    promoted: report.promoted,
    reason: report.reason,
    training: report.training,
    provenance: report.provenance,
    candidate: report.candidate,
    current: report.current,
    seconds: report.seconds,
  },
  latency,
  seconds: (performance.now() - t0) / 1000,
};
mkdirSync("reports", { recursive: true });
writeFileSync(join("reports", "retrain-clinc.json"), JSON.stringify(result, null, 2) + "\n");
rmSync(work, { recursive: true, force: true });
await encoder.close?.();

const row = (name: string, a: string, b: string) => `${name.padEnd(34)}${a.padStart(12)}${b.padStart(12)}`;
console.log(
  [
    `CLINC150: base ${base.length} examples (20% of train), traffic ${traffic.length}, test ${test.length} (${rows("oos_test").length} out-of-scope)`,
    row("", "before", "after"),
    row("model", `${result.before.examples} ex`, `${result.after.examples} ex`),
    row("in-scope accuracy (test)", pct(beforeTest.accuracy), pct(afterTest.accuracy)),
    row("in-scope macro-F1 (test)", pct(beforeTest.macroF1), pct(afterTest.macroF1)),
    row("confident share, in-scope (test)", pct(beforeTest.coverage), pct(afterTest.coverage)),
    row("accuracy of confident (test)", pct(beforeTest.acceptedAccuracy), pct(afterTest.acceptedAccuracy)),
    row("out-of-scope recall (low-conf.)", pct(beforeTest.outOfScope?.recall ?? 0), pct(afterTest.outOfScope?.recall ?? 0)),
    row("traffic sent to the LLM", pct(result.traffic.fallbackRate), pct(result.traffic.lowConfidenceShareAfterRetrain)),
    `fallback calls: ${fallbackCalls} of ${traffic.length} traffic queries; routed accuracy on traffic ${pct(result.traffic.routedAccuracy)}`,
    `retrain: promoted ${report.promoted ? "yes" : "no"} — ${report.reason}`,
    `training set after: ${report.training.examples} (${report.training.base} base + ${report.training.fromLog} from the log: fallback ${report.provenance.fallback.disagree} disagreeing + ${report.provenance.fallback.agree} agreeing)`,
    `classify latency, log on vs off (n=${sample.length}, interleaved): p50 ${latency.on.p50.toFixed(3)} vs ${latency.off.p50.toFixed(3)} ms (ratio ${latency.ratioP50.toFixed(3)}), mean ${latency.on.mean.toFixed(3)} vs ${latency.off.mean.toFixed(3)} ms (ratio ${latency.ratioMean.toFixed(3)})`,
    `wrote reports/retrain-clinc.json (${result.seconds.toFixed(0)} s)`,
  ].join("\n"),
);

function metrics(r: EvalReport, version: string, examples: number) {
  return {
    version,
    examples,
    accuracy: r.accuracy,
    macroF1: r.macroF1,
    coverage: r.coverage,
    acceptedAccuracy: r.acceptedAccuracy,
    outOfScopeRecall: r.outOfScope?.recall ?? null,
  };
}
function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: median(xs), p95: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)], mean: mean(xs) };
}
