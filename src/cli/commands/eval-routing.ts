import { basename, resolve } from "node:path";
import { type Command, Option } from "commander";
import { TriageError } from "../../common/errors.js";
import { DEFAULT_CACHE_PATH, resolveEncoder } from "../../encoders/resolve.js";
import { evaluateRouting } from "../../outcomes/evaluate.js";
import { jsonSummary, textReport, writeRoutingReport } from "../../outcomes/report.js";
import { splitByPrompt } from "../../outcomes/split.js";
import type { OutcomeSet } from "../../outcomes/set.js";
import { loadOutcomes, type OutcomeLoadOptions } from "../../outcomes/load.js";
import { fillCosts } from "../../outcomes/prices.js";
import { finiteNumber, nonNegativeInt } from "../parse.js";
import { dialFromFlags } from "../dial-flags.js";
import { addEstimatorOptions, estimatorFitOptions, type EstimatorFlags } from "../estimator-flags.js";

interface EvalRoutingOptions extends EstimatorFlags {
  train?: string;
  test?: string;
  data?: string;
  split: number;
  seed: number;
  resamples: number;
  format?: OutcomeLoadOptions["format"];
  prices?: string;
  threshold: number;
  json?: boolean;
  out?: string;
  name?: string;
  cache: string;
  encoder: string;
  fullPrompt?: boolean;
  quality?: string;
  maxCost?: string;
}

/** Fills missing costs: from --prices, or RouteLLM's two models' published prices; fails otherwise. */
export function withCosts(set: OutcomeSet, pricesPath: string | undefined): OutcomeSet {
  return fillCosts(set, pricesPath).set;
}

export function registerEvalRouting(program: Command): void {
  const command = program
    .command("eval-routing")
    .description("learn which model each prompt needs from per-model outcomes and measure that routing on held-out prompts (APGR, CPT, AIQ, cost saving) against baselines")
    .option("--train <file>", "outcomes to learn from (with --test)")
    .option("--test <file>", "outcomes to evaluate on (with --train)")
    .option("--data <file|dir>", "one file or a folder of files, split by prompt into train/test")
    .option("--split <share>", "share of prompts for training with --data", finiteNumber, 0.5)
    .option("--seed <n>", "seed for the split and cross-validation", finiteNumber, 1)
    .option("--resamples <n>", "bootstrap draws of the test prompts behind the saving's intervals (0: none)", nonNegativeInt, 1000)
    .addOption(new Option("--format <format>", "outcome layout (detected when omitted)").choices(["wide", "long", "routerbench", "routellm"]))
    .option("--prices <file>", "model list with prices (USD per 1M tokens) where the data has no costs")
    .option("--threshold <score>", "score at or above which an answer counts as good", finiteNumber, 0.5)
    .option("--full-prompt", "route on the whole prompt, not the last question of few-shot prompts")
    .option("--json", "print one JSON object with the figures")
    .option("--out <dir>", "write <name>.json, <name>.md and <name>.svg there")
    .option("--name <name>", "report file name (default: from the data path)")
    .option("--cache <path>", "embedding cache ($TRIAGE_CACHE when set)", DEFAULT_CACHE_PATH)
    .option("--encoder <spec>", "auto | use | onnx | onnx:DIR, as train --outcomes takes (auto: ONNX MiniLM if pulled, else the npm-shipped encoder)", "auto")
    .option("--quality <share>", "the dial setting reported as the router's operating point: quality floor relative to the strongest model (default 0.95)")
    .option("--max-cost <share>", "the same as a cost ceiling relative to the strongest model (instead of --quality)");
  addEstimatorOptions(command).action(async (opts: EvalRoutingOptions) => {
    const dial = dialFromFlags(opts.quality, opts.maxCost);
    const load: OutcomeLoadOptions = { format: opts.format, lastQuestionOnly: !opts.fullPrompt };
    let train: OutcomeSet;
    let test: OutcomeSet;
    const seed = opts.seed;
    if (opts.data) {
      if (opts.train || opts.test) throw new TriageError("give either --data or --train/--test, not both");
      ({ train, test } = splitByPrompt(withCosts(loadOutcomes(opts.data, load), opts.prices), opts.split, seed));
    } else if (opts.train && opts.test) {
      train = withCosts(loadOutcomes(opts.train, load), opts.prices);
      test = withCosts(loadOutcomes(opts.test, load), opts.prices);
    } else throw new TriageError("give --train FILE --test FILE, or --data FILE|DIR");
    const log = (m: string) => process.stderr.write(`eval-routing: ${m}\n`);
    // The encoder train --outcomes would use, so the figures are the ones that model would give.
    const { encoder, reason } = await resolveEncoder({ spec: opts.encoder, cachePath: opts.cache });
    log(`encoder: ${encoder.id} (${reason})`);
    try {
      const report = await evaluateRouting(train, test, (t) => encoder.embed(t), {
        threshold: opts.threshold,
        seed,
        log,
        dial,
        ...estimatorFitOptions(opts),
        resamples: opts.resamples,
      });
      const source = opts.data ?? opts.train ?? "outcomes";
      const name =
        opts.name ??
        basename(resolve(source))
          .replace(/\.(csv|jsonl)$/i, "")
          .replace(/_train$/, "");
      if (opts.out) {
        const paths = writeRoutingReport(opts.out, name, name, report);
        log(`wrote ${paths.json}, ${paths.md}, ${paths.svg}`);
      }
      if (opts.json) process.stdout.write(JSON.stringify(jsonSummary(report)) + "\n");
      else process.stdout.write(textReport(report) + "\n");
    } finally {
      await encoder.close?.();
    }
  });
}
