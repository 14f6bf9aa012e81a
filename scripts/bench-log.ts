/**
 * What the decision log costs the hot path: µs per log() call on 10k decisions into a real SQLite file,
 * and how fast queued rows are written (flush throughput, and how long one batch holds the event loop).
 *   npx tsx scripts/bench-log.ts [--n 10000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { percentile } from "../src/common/stats.js";
import type { Decision } from "../src/router/types.js";
import { DecisionLog, type DecisionLogOptions } from "../src/store/index.js";

const nArg = process.argv.indexOf("--n");
const N = nArg > 0 ? Number(process.argv[nArg + 1]) : 10_000;
const dir = mkdtempSync(join(tmpdir(), "triage-bench-log-"));
let fileNo = 0;

function decisions(n: number, prefix: string): Array<{ d: Decision; text: string }> {
  const labels = ["cheap", "mid", "strong"];
  return Array.from({ length: n }, (_, i) => {
    const label = labels[i % 3];
    return {
      d: {
        requestId: `${prefix}-${i}`,
        label,
        confidence: 0.7,
        margin: 0.3,
        scores: { cheap: 0.7, mid: 0.2, strong: 0.1 },
        modelLabel: label,
        neighbours: Array.from({ length: 5 }, (_, k) => ({ label, similarity: 0.9 - k / 100, exampleId: k })),
        decidedBy: "model",
        lowConfidence: i % 10 === 0,
        stage: "full",
        latencyMs: 3.2,
        modelVersion: "bench",
        ...(i % 10 === 0 ? { fallback: { label: "strong", latencyMs: 420 } } : {}),
      },
      text: `how do I ${i % 7 === 0 ? "prove" : "say"} something about item number ${i} in a sentence of typical length?`,
    };
  });
}

const us = (ns: bigint) => Number(ns) / 1000;
const fmt = (v: number) => v.toFixed(2).padStart(8);
function summary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `p50 ${fmt(percentile(s, 50))} µs  p99 ${fmt(percentile(s, 99))} µs  max ${fmt(s[s.length - 1])} µs`;
}
const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

function openLog(options: DecisionLogOptions): DecisionLog {
  return DecisionLog.open(join(dir, `bench-${fileNo++}.db`), options);
}

/** log() timed alone; `yieldEvery` lets background flushes run between calls, as in a server. */
async function timeLogCalls(options: DecisionLogOptions, yieldEvery: number): Promise<{ samples: number[]; log: DecisionLog; wallMs: number }> {
  const log = openLog(options);
  const warm = decisions(1000, `warm${fileNo}`);
  for (const { d, text } of warm) log.log(d, text);
  log.flush();
  const items = decisions(N, `run${fileNo}`);
  const samples = new Array<number>(N);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    log.log(items[i].d, items[i].text);
    samples[i] = us(process.hrtime.bigint() - t0);
    if (yieldEvery && i % yieldEvery === yieldEvery - 1) await yieldTurn();
  }
  log.flush();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { samples, log, wallMs };
}

/** Flush cost: N rows queued then written in batches of `batch` rows (one transaction each). */
function flushThroughput(options: DecisionLogOptions, batch: number): { rowsPerSec: number; batchMs: number[] } {
  const log = openLog({ ...options, batchSize: 1_000_000, maxPending: 1_000_000, flushIntervalMs: 600_000 });
  const items = decisions(N, `fl${fileNo}`);
  const batchMs: number[] = [];
  let total = 0n;
  for (let s = 0; s < N; s += batch) {
    for (let i = s; i < Math.min(N, s + batch); i++) log.log(items[i].d, items[i].text);
    const t0 = process.hrtime.bigint();
    log.flush();
    const dt = process.hrtime.bigint() - t0;
    total += dt;
    batchMs.push(Number(dt) / 1e6);
  }
  log.close();
  return { rowsPerSec: N / (Number(total) / 1e9), batchMs };
}

async function main() {
  const timerProbe: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const t0 = process.hrtime.bigint();
    timerProbe.push(us(process.hrtime.bigint() - t0));
  }
  console.log(
    `decision log benchmark: ${N} decisions per run, node ${process.version}, file in ${tmpdir()}, ` +
      `${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
  );
  console.log(`timer overhead (empty measurement):            ${summary(timerProbe)}`);

  const tight = await timeLogCalls({}, 0);
  console.log(`log() in a tight loop (pure enqueue):           ${summary(tight.samples)}`);
  tight.log.close();

  const served = await timeLogCalls({}, 1);
  console.log(`log() yielding each call (flushes in between):  ${summary(served.samples)}  (${served.log.counters.flushes} flushes, ${served.wallMs.toFixed(0)} ms wall)`);
  served.log.close();

  for (const durability of ["full", "normal"] as const) {
    for (const batch of [256, 10_000]) {
      const r = flushThroughput({ durability }, batch);
      const sorted = [...r.batchMs].sort((a, b) => a - b);
      console.log(
        `flush durability=${durability.padEnd(6)} batch=${String(batch).padEnd(5)}: ${Math.round(r.rowsPerSec).toLocaleString("en-US").padStart(9)} rows/s` +
          `  one batch holds the loop p50 ${percentile(sorted, 50).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms`,
      );
    }
  }
  for (const textMode of ["hash", "redact"] as const) {
    const r = flushThroughput({ textMode }, 256);
    console.log(`flush textMode=${textMode.padEnd(6)} batch=256  : ${Math.round(r.rowsPerSec).toLocaleString("en-US").padStart(9)} rows/s`);
  }
}

main()
  .finally(() => rmSync(dir, { recursive: true, force: true }))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
