import type { Command } from "commander";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic.js";
import { runBench, type BenchReport, type VariantBench } from "../../eval/bench.js";
import { info, pct, table } from "../output.js";
import { FAST_PATH_TOLERANCE_HELP, positiveInt, unitInterval } from "../parse.js";

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("measure single-query latency (p50/p95/p99, embedding share), batch and training throughput, load time, memory; optionally Banking77/CLINC150 accuracy")
    .requiredOption("--model <dir>", "model artifact directory, or a registry (its current version)")
    .option("--queries <n>", "single-query calls to time", positiveInt, 1000)
    .option("--train-sample <n>", "examples to time training on", positiveInt, 400)
    .option("--datasets [names]", "also train and evaluate on ../shared/datasets when present: banking77,clinc150 (default both)")
    .option("--dataset-models <dir>", "keep the dataset models here (one dir per dataset) and reuse them on the next run instead of retraining")
    .option(
      "--test <file>",
      "labelled test data (JSONL/CSV) for the model itself: both routers' accuracy, latency and stage shares (default: data/tiers/test.jsonl for a model of those tiers)",
    )
    .option("--fast-path-tolerance <x>", FAST_PATH_TOLERANCE_HELP, unitInterval)
    .option("--operating-points", "with --datasets: also measure the cascade at every operating point the models record")
    .option("--out <dir>", "where to write bench.json and bench.md", "reports")
    .option("--json", "print the JSON report on stdout")
    .action(
      async (opts: {
        model: string;
        queries: number;
        trainSample: number;
        datasets?: boolean | string;
        datasetModels?: string;
        test?: string;
        fastPathTolerance?: number;
        operatingPoints?: boolean;
        out: string;
        json?: boolean;
      }) => {
        const report = await runBench({
          modelDir: opts.model,
          singleQueries: opts.queries,
          trainSample: opts.trainSample,
          datasets: typeof opts.datasets === "string" ? opts.datasets.split(",") : opts.datasets,
          datasetModels: opts.datasetModels,
          test: opts.test,
          fastPathTolerance: opts.fastPathTolerance,
          operatingPoints: opts.operatingPoints,
          log: (l) => info(l),
        });
        writeFileAtomic(join(opts.out, "bench.json"), JSON.stringify(report, null, 2) + "\n");
        writeFileAtomic(join(opts.out, "bench.md"), renderMarkdown(report));
        if (opts.json) process.stdout.write(JSON.stringify(report) + "\n");
        else info("\n" + renderMarkdown(report));
        info(`wrote ${join(opts.out, "bench.json")} and ${join(opts.out, "bench.md")}`);
      },
    );
}

const ms = (x: number) => x.toFixed(2);

export function renderMarkdown(r: BenchReport): string {
  const lines = [
    `# triage bench — ${r.createdAt}`,
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}, load average ${r.machine.loadAverage.map((x) => x.toFixed(1)).join(" / ")}. Model ${r.model.version} (${r.model.encoder}).`,
    "",
    `## Single-query classify latency (ms)${r.datasets.length ? " on the third-party test splits (no repeats)" : ""}`,
    "",
    "```",
    table([
      ["encoder", "queries", "p50", "p95", "p99", "embed p50", "embed p95", "embed p99"],
      ...Object.entries(r.encoders).map(([id, q]) => [
        id,
        q.queries,
        ms(q.p50),
        ms(q.p95),
        ms(q.p99),
        ...(q.embed ? [ms(q.embed.p50), ms(q.embed.p95), ms(q.embed.p99)] : ["-", "-", "-"]),
      ]),
    ]),
    "```",
    "",
    ...(r.stages
      ? [
          `Decided by stage (cascade): ${Object.entries(r.stages)
            .map(([k, v]) => `${k} ${pct(v)}`)
            .join(", ")}.`,
          "",
        ]
      : []),
    `Embedding share measured on the model's own queries. Batch throughput: ${r.batch.queriesPerSecond.toFixed(0)} queries/s (batches of ${r.batch.size}). Training: ${r.training.examples} examples in ${r.training.seconds.toFixed(1)} s (${r.training.examplesPerSecond.toFixed(1)}/s overall, embedding ${r.training.embedPerSecond.toFixed(1)}/s). Artifact load: ${r.loadMs.toFixed(0)} ms. Peak RSS: ${r.peakRssMb.toFixed(0)} MB.`,
  ];
  if (r.datasets.length) {
    const row = (d: BenchReport["datasets"][number], name: string, v: VariantBench) => [
      d.dataset,
      name,
      pct(v.accuracy),
      pct(v.macroF1),
      pct(v.coverage),
      pct(v.acceptedAccuracy),
      v.outOfScopeRecall === undefined ? "-" : pct(v.outOfScopeRecall),
      ms(v.latency.p50),
      ms(v.latency.p99),
      Object.entries(v.stages)
        .map(([k, x]) => `${k} ${pct(x)}`)
        .join(" "),
    ];
    lines.push(
      "",
      "## Test splits (train -> test): the benched model, third-party datasets",
      "",
      "```",
      table([
        ["dataset", "router", "accuracy", "macro-F1", "coverage", "acc@coverage", "oos recall", "p50", "p99", "stages"],
        ...r.datasets.flatMap((d) => [row(d, "full", d.full), ...(d.cascade ? [row(d, "cascade", d.cascade)] : [])]),
      ]),
      "```",
      "",
      ...operatingPointLines(r),
      r.datasets
        .map(
          (d) =>
            `${d.dataset}: ${d.trainExamples} training examples, ${d.testQueries} test queries, ${d.benchedModel ? "the benched model" : d.trainSeconds === null ? "model reused" : `trained in ${d.trainSeconds.toFixed(1)} s${d.trainCpuSeconds == null ? "" : ` (${d.trainCpuSeconds.toFixed(1)} s of CPU)`}`}.`,
        )
        .join(" "),
    );
  }
  if (r.skipped.length) lines.push("", ...r.skipped.map((s) => `- ${s}`));
  return lines.join("\n") + "\n";
}

/** The cascade at each recorded operating point, next to the full router (--operating-points). */
function operatingPointLines(r: BenchReport): string[] {
  const withPoints = r.datasets.filter((d) => d.operatingPoints?.length);
  if (!withPoints.length) return [];
  const rows = withPoints.flatMap((d) =>
    d.operatingPoints!.map((p) => [
      d.dataset,
      String(p.tolerance),
      pct(p.accuracy),
      `${((p.accuracy - d.full.accuracy) * 100).toFixed(2)}`,
      p.outOfScopeRecall === undefined ? "-" : `${pct(p.outOfScopeRecall)} (${((p.outOfScopeRecall - (d.full.outOfScopeRecall ?? 0)) * 100).toFixed(1)})`,
      pct(p.coverage),
      pct((p.stages.static ?? 0) + (p.stages.rule ?? 0)),
      ms(p.latency.p50),
      ms(p.latency.p99),
    ]),
  );
  return [
    "## Cascade operating points (fastPathTolerance), test splits",
    "",
    "```",
    table([["dataset", "tolerance", "accuracy", "vs full (pts)", "oos recall (vs full)", "coverage", "no full encoder", "p50", "p99"], ...rows]),
    "```",
    "",
  ];
}
