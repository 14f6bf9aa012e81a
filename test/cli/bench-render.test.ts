/** @module bench.md's dataset lines: wall and CPU seconds of each dataset's training. */
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/cli/commands/bench.js";
import type { BenchReport, VariantBench } from "../../src/eval/bench.js";

const variant: VariantBench = { accuracy: 0.9, macroF1: 0.9, coverage: 0.9, acceptedAccuracy: 0.95, latency: { p50: 1, p95: 2, p99: 3 }, stages: { full: 1 } };

function report(datasets: BenchReport["datasets"]): BenchReport {
  return {
    createdAt: "2026-01-01T00:00:00.000Z",
    machine: { cpus: 2, node: "v20", loadAverage: [1, 1, 1] },
    model: { dir: "m", version: "v1", encoder: "use" },
    encoders: { use: { p50: 1, p95: 2, p99: 3, queries: 10 } },
    batch: { size: 64, queriesPerSecond: 100 },
    training: { examples: 10, seconds: 1, examplesPerSecond: 10, embedPerSecond: 10 },
    loadMs: 1,
    peakRssMb: 1,
    datasets,
    skipped: [],
  };
}

describe("bench.md", () => {
  it("gives each trained dataset's wall and CPU seconds, and neither for a reused model", () => {
    const md = renderMarkdown(
      report([
        { dataset: "banking77", trainExamples: 10003, testQueries: 3080, trainSeconds: 41.25, trainCpuSeconds: 70.5, full: variant },
        { dataset: "clinc150", trainExamples: 15000, testQueries: 5500, trainSeconds: null, trainCpuSeconds: null, full: variant },
      ]),
    );
    expect(md).toContain("banking77: 10003 training examples, 3080 test queries, trained in 41.3 s (70.5 s of CPU).");
    expect(md).toContain("clinc150: 15000 training examples, 5500 test queries, model reused.");
  });
});
