/**
 * @module `triage train --outcomes FILE`: trains an outcome model (which model answers each prompt well,
 * at what cost) and writes its artifact to --out or a new registry version. The options are added to
 * `train`'s own, so one command trains either kind of model.
 */
import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import { Option, type Command } from "commander";
import { assertReplaceable } from "../../common/atomic.js";
import { TriageError } from "../../common/errors.js";
import { DEFAULT_CACHE_PATH, resolveEncoder } from "../../encoders/resolve.js";
import { ModelRegistry } from "../../model/registry.js";
import { isPostgresUrl } from "../../model/registry-pg-url.js";
import { publishTrained } from "../../retrain/publish-pg.js";
import { outcomeArtifactOwner, writeOutcomeArtifact } from "../../outcomes/artifact.js";
import { dialPoint } from "../../outcomes/dial.js";
import { dialFromFlags } from "../dial-flags.js";
import { fitOutcomeModel } from "../../outcomes/fit.js";
import { loadOutcomes, type OutcomeLoadOptions } from "../../outcomes/load.js";
import { fillCosts } from "../../outcomes/prices.js";
import { describeCv } from "../../outcomes/summary.js";
import { info, keyValues, pct, progressBar, withRate } from "../output.js";
import { finiteNumber } from "../parse.js";
import { addEstimatorOptions, estimatorFitOptions, type EstimatorFlags } from "../estimator-flags.js";

export interface TrainOutcomesOptions extends EstimatorFlags {
  outcomes: string;
  out?: string;
  registry?: string;
  prices?: string;
  format?: OutcomeLoadOptions["format"];
  fullPrompt?: boolean;
  quality?: string;
  maxCost?: string;
  seed: number;
  folds?: number;
  encoder?: string;
  cache?: string;
  json?: boolean;
}

/** Adds the outcome-model options to `train`. */
export function addOutcomeOptions(command: Command): Command {
  const withOutcomes = command
    .option("--outcomes <file|dir>", "instead of --data: per-model outcomes (the layouts eval-routing reads) to train an outcome model from")
    .option("--prices <file>", "--outcomes: model list with prices (USD per 1M tokens) where the data has no costs")
    .addOption(new Option("--format <format>", "--outcomes: layout (detected when omitted)").choices(["wide", "long", "routerbench", "routellm"]))
    .option("--full-prompt", "--outcomes: route on the whole prompt, not the last question of few-shot prompts")
    .option("--quality <share>", "--outcomes: default dial, a quality floor relative to the strongest model (default 0.95)")
    .option("--max-cost <share>", "--outcomes: default dial as a cost ceiling relative to the strongest model instead")
    .option("--seed <n>", "--outcomes: seed for cross-validation", finiteNumber, 1)
    .option("--cache <path>", "--outcomes: embedding cache ($TRIAGE_CACHE when set)");
  return addEstimatorOptions(withOutcomes, "--outcomes: ");
}

export async function trainOutcomes(opts: TrainOutcomesOptions): Promise<void> {
  if ((opts.out === undefined) === (opts.registry === undefined)) throw new TriageError("train: give either --out DIR or --registry DIR");
  const dial = dialFromFlags(opts.quality, opts.maxCost);
  // A shared registry (postgres://…) gets the artifact written in a scratch folder, then published.
  const shared = opts.registry !== undefined && isPostgresUrl(opts.registry) ? opts.registry : undefined;
  const registry = opts.registry !== undefined && shared === undefined ? new ModelRegistry(opts.registry) : undefined;
  const version = registry?.nextVersion();
  const out = registry ? registry.versionDir(version!) : opts.out;
  if (out !== undefined) refuseOutput(out, opts.outcomes);
  const lastQuestionOnly = !opts.fullPrompt;
  const { set, prices } = fillCosts(loadOutcomes(opts.outcomes, { format: opts.format, lastQuestionOnly }), opts.prices);
  const { encoder, reason, ref } = await resolveEncoder({ spec: opts.encoder ?? "auto", cachePath: opts.cache ?? DEFAULT_CACHE_PATH });
  info(`encoder: ${encoder.id} (${reason})`);
  const started = Date.now();
  const bar = progressBar("embedding");
  bar.start(set.prompts.length, 0, { rate: "0" });
  const update = withRate(bar, started);
  let done = 0;
  let vectors: Float32Array[];
  try {
    vectors = await encoder.embed(
      set.prompts.map((p) => p.text),
      (n) => update((done += n)),
    );
  } finally {
    bar.stop();
    await encoder.close?.();
  }
  info(`cross-validating the estimator on ${set.prompts.length} prompts`);
  const asked = { folds: opts.folds, ...estimatorFitOptions(opts) };
  const fitted = await fitOutcomeModel(set, vectors, { seed: opts.seed, ...asked, log: (m) => info(m) });
  const write = (dir: string) => writeOutcomeArtifact({ out: dir, set, fitted, asked, encoder: ref, seed: opts.seed, defaultDial: dial, prices, lastQuestionOnly });
  let manifest: Awaited<ReturnType<typeof write>>;
  let writtenTo: string;
  if (shared !== undefined) {
    const published = await publishTrained(shared, write);
    manifest = published.built;
    writtenTo = `version ${published.version} of ${published.location}, now current`;
    info(`${published.location}: current -> ${published.version}${published.pruned.length ? ` (pruned ${published.pruned.join(", ")})` : ""}`);
  } else {
    manifest = await write(out!);
    writtenTo = out!;
    if (registry) {
      await registry.promote(version!);
      info(`${registry.root}: current -> ${version}`);
    }
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(manifest) + "\n");
    return;
  }
  const o = manifest.outcomes;
  const at = dialPoint(o.dial.calibration, dial);
  info(
    "\n" +
      keyValues([
        ["model", manifest.version],
        ["written to", writtenTo],
        ["prompts", `${manifest.data.prompts}${set.notes.length ? ` (${set.notes.join("; ")})` : ""}`],
        ["models", manifest.labels.join(", ")],
        ["strongest", o.models[o.strong]],
        ["estimator", `${o.estimator.method} (out of fold AIQ ${pct(o.cv.aiq)}, staircase ${pct(o.cv.aiqStaircase)}; ${describeCv(manifest)})`],
        [
          "default dial",
          `${"quality" in dial ? `quality ${dial.quality}` : `max cost ${dial.maxCost}`}: out of fold ${pct(at.quality)} of the strongest's quality at ${pct(at.cost)} of its cost`,
        ],
        ["time", `${((Date.now() - started) / 1000).toFixed(1)} s`],
      ]),
  );
}

/** Before any work: never write over the data, nor over anything that is not a triage model. */
function refuseOutput(out: string, data: string): void {
  if (existsSync(out) && existsSync(data)) {
    const rel = relative(realpathSync(out), realpathSync(data));
    if (rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)))
      throw new TriageError(`${out}: holds the outcome data (${data}); write the model to a directory of its own (e.g. models/NAME)`);
  }
  assertReplaceable(out, outcomeArtifactOwner);
}
