import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { isPostgresUrl } from "../../model/registry-pg-url.js";
import { isOutcomeArtifact, OUTCOME_KIND } from "../../outcomes/artifact.js";
import { DEFAULT_MIN_HELD_OUT_OUTCOMES, type OutcomeRetrainOptions, type OutcomeRetrainReport, retrainOutcomes } from "../../outcomes/retrain.js";
import { inSharedRegistry, retrainShared, sharedModelKind } from "../../retrain/publish-pg.js";
import { DEFAULT_MIN_HELD_OUT, retrain, type RetrainOptions, type RetrainReport } from "../../retrain/retrain.js";
import { parseDurationMs, parseTimeBound } from "../../store/index.js";
import { logDbOption } from "../log-db.js";
import { info, keyValues, pct } from "../output.js";
import { addEstimatorOptions } from "../estimator-flags.js";
import { finiteNumber, nonNegativeInt, positiveInt, shareBelowOne } from "../parse.js";

interface RetrainCliOptions {
  registry: string;
  data: string;
  logDb: string;
  eval?: string;
  config?: string;
  metric?: string;
  minDelta: number;
  minHeldOut?: number;
  maxOosDrop: number;
  includeHighConfidence?: number | true;
  fallbackAgreements: boolean;
  heldOutShare: number;
  keep: number;
  since?: string;
  folds?: number;
  cvRepeats?: number;
  headDims?: number;
  every?: string;
  json?: boolean;
}

const CRON_HELP = `
Scheduling: --every 24h keeps this process running and retrains on that interval (a failed run is
reported and the next one still happens). Or let cron start one run a day, e.g. at 03:00:

  0 3 * * *  cd /srv/triage && npx triage retrain --registry models/tiers --data data/tiers/train.jsonl \\
               --log-db logs/decisions.db --eval data/tiers/test.jsonl --json >> logs/retrain.jsonl 2>&1

Only one retrain runs per registry at a time (a lock file; a lock left by a killed run is taken over).
A running router started with the registry dir (and watching it) picks up a promotion without a restart;
\`triage rollback --registry DIR\` switches back.`;

export function registerRetrain(program: Command): void {
  const command = program
    .command("retrain")
    .description(
      "train a candidate from base data + the decision log, compare it with the current model on held-out data, promote only if not worse; " +
        "skipped when the training data is unchanged or too little is held out",
    )
    .requiredOption(
      "--registry <dir|url>",
      "model registry (versions/ + current pointer), e.g. models/tiers, or a shared one, postgres://…; a plain artifact there is adopted as its first version",
    )
    .requiredOption("--data <file>", "base labelled examples (JSONL or CSV); for an outcome model, its base outcome data (as train --outcomes read it)")
    .addOption(logDbOption("the log to learn from"))
    .option("--eval <file>", "fixed evaluation set; the newest human labels from the log are added to it (outcome models: held-out outcomes, needed)")
    .option("--config <file>", "tiers/routes config (default: the current model's)")
    .option(
      "--metric <name>",
      "accuracy | macroF1 (default accuracy); outcome models: aiq | saving (default aiq: area under the quality-cost curve; saving: at the model's quality floor)",
    )
    .option("--min-delta <x>", "promote when candidate - current >= this (0: not worse; negative tolerates a small drop)", finiteNumber, 0)
    .option(
      "--min-held-out <n>",
      `held-out examples a comparison needs; with fewer, nothing is trained or promoted (default ${DEFAULT_MIN_HELD_OUT}; outcome models ${DEFAULT_MIN_HELD_OUT_OUTCOMES})`,
      nonNegativeInt,
    )
    .option(
      "--max-oos-drop <x>",
      "with out-of-scope queries in the held-out data (labels the model does not know): keep the current version when the candidate flags a share of them smaller by more than this",
      shareBelowOne,
      0.02,
    )
    .option("--include-high-confidence [max]", "also learn from the model's own confident decisions (capped, default 1000)", positiveInt)
    .option("--no-fallback-agreements", "ignore fallback answers that agree with the local top-1")
    .option("--held-out-share <x>", "share of the newest human labels kept out of training for evaluation", shareBelowOne, 0.2)
    .option("--keep <n>", "versions kept on disk (current and previous always)", positiveInt, 5)
    .option("--since <when>", "only decisions from this time (24h, 7d, ISO date)")
    .option("--folds <n>", "cross-validation folds (outcome models: default the current version's)", positiveInt)
    .option("--every <duration>", "keep running and retrain on this schedule, e.g. 24h")
    .option("--json", "print one JSON object per run: promoted, reason, candidate and current metrics, provenance")
    .addHelpText("after", CRON_HELP)
    .action(async (opts: RetrainCliOptions) => {
      const intervalMs = opts.every !== undefined ? parseDurationMs(opts.every, "--every") : undefined;
      if (intervalMs !== undefined && intervalMs < 1000) throw new TriageError("--every: at least 1s");
      // An outcome model (train --outcomes) retrains from outcomes: the base data plus the per-model outcomes logged.
      const shared = isPostgresUrl(opts.registry);
      const outcomes = shared ? (await sharedModelKind(opts.registry)) === OUTCOME_KIND : isOutcomeArtifact(opts.registry);
      if (outcomes && opts.metric !== undefined && opts.metric !== "aiq" && opts.metric !== "saving")
        throw new TriageError(`--metric: ${opts.registry} is an outcome model; expected aiq or saving, got "${opts.metric}"`);
      if (!outcomes && opts.metric !== undefined && opts.metric !== "accuracy" && opts.metric !== "macroF1")
        throw new TriageError(`--metric: expected accuracy or macroF1, got "${opts.metric}"`);
      if (!outcomes && (opts.cvRepeats !== undefined || opts.headDims !== undefined))
        throw new TriageError(`${opts.cvRepeats !== undefined ? "--cv-repeats" : "--head-dims"}: only for an outcome model, and ${opts.registry} does not hold one`);
      const runOutcomes = async () => {
        const options: OutcomeRetrainOptions = {
          registry: opts.registry,
          baseData: opts.data,
          logDb: opts.logDb,
          evalData: opts.eval,
          metric: opts.metric === "saving" ? "saving" : "aiq",
          minDelta: opts.minDelta,
          minHeldOut: opts.minHeldOut,
          keepVersions: opts.keep,
          since: opts.since !== undefined ? parseTimeBound(opts.since, "--since") : undefined,
          folds: opts.folds,
          cvRepeats: opts.cvRepeats,
          headDimensions: opts.headDims,
          onProgress: (m) => info(m),
        };
        // A shared registry: retrained on a local copy, published there under its retrain lock; replicas follow.
        const report = shared
          ? await inSharedRegistry(opts.registry, options, (root, candidate) => retrainOutcomes({ ...options, registry: root, candidateVersion: candidate }))
          : await retrainOutcomes(options);
        if (opts.json) process.stdout.write(JSON.stringify(report) + "\n");
        else process.stdout.write(formatOutcomeReport(report) + "\n");
        return report;
      };
      const metric = opts.metric === "macroF1" ? "macroF1" : "accuracy";
      const runTiers = async () => {
        const options: RetrainOptions = {
          registry: opts.registry,
          baseData: opts.data,
          logDb: opts.logDb,
          evalData: opts.eval,
          config: opts.config,
          metric,
          minDelta: opts.minDelta,
          minHeldOut: opts.minHeldOut ?? DEFAULT_MIN_HELD_OUT,
          maxOutOfScopeDrop: opts.maxOosDrop,
          includeHighConfidence: opts.includeHighConfidence === undefined ? false : opts.includeHighConfidence === true ? true : { max: opts.includeHighConfidence },
          fallbackAgreements: opts.fallbackAgreements,
          heldOut: { share: opts.heldOutShare },
          keepVersions: opts.keep,
          since: opts.since !== undefined ? parseTimeBound(opts.since, "--since") : undefined,
          folds: opts.folds,
          onProgress: (m) => info(m),
          onWarning: (m) => info(`warning: ${m}`),
        };
        // A shared registry: trained locally, published there under its retrain lock; replicas follow.
        const report = shared ? await retrainShared(opts.registry, options) : await retrain(options);
        if (opts.json) process.stdout.write(JSON.stringify(report) + "\n");
        else process.stdout.write(formatReport(report) + "\n");
        return report;
      };
      const runOnce = outcomes ? runOutcomes : runTiers;
      if (intervalMs === undefined) {
        await runOnce();
        return;
      }
      for (;;) {
        try {
          await runOnce();
        } catch (err) {
          if (!(err instanceof TriageError)) throw err;
          info(`retrain failed: ${err.message}`);
          if (opts.json) process.stdout.write(JSON.stringify({ promoted: false, reason: `failed: ${err.message}`, error: true }) + "\n");
        }
        info(`next retrain in ${opts.every} (${new Date(Date.now() + intervalMs).toISOString()})`);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    });
  addEstimatorOptions(command, "outcome models: ", true);
}

function formatOutcomeReport(r: OutcomeRetrainReport): string {
  const m = (x: OutcomeRetrainReport["candidate"]) =>
    x ? `AIQ ${x.aiq.toFixed(4)}; at ${x.atDial.dial}: ${pct(x.atDial.relativeQuality)} of the strongest's quality, ${pct(x.atDial.saving)} of its cost saved` : "-";
  const t = r.training;
  return keyValues([
    ["result", r.promoted ? "PROMOTED" : r.candidateVersion === null ? "kept current, nothing trained" : "kept current"],
    ["reason", r.reason],
    ["candidate", r.candidateVersion === null ? "-" : `${r.candidateVersion}: ${m(r.candidate)}`],
    ["current (before)", r.current ? `${r.current.registryVersion}: ${m(r.current)}` : "-"],
    ["serving now", r.served],
    ["held-out", `${r.heldOut.eval} prompts with every score known (a comparison needs ${r.heldOut.min})`],
    ["training set", `${t.prompts} prompts: ${t.base} base + ${t.fromLog} from the log (${t.outcomes} per-model outcomes)`],
    ["pruned", r.pruned.join(", ") || "-"],
    ["time", `${r.seconds.toFixed(1)} s`],
  ]);
}

function formatReport(r: RetrainReport): string {
  const m = (x: RetrainReport["candidate"]) => (x ? `${pct(x.accuracy)} acc, ${pct(x.macroF1)} F1, ${pct(x.coverage)} confident` : "-");
  const s = r.provenance.sources;
  return keyValues([
    ["result", r.promoted ? "PROMOTED" : r.candidateVersion === null ? "kept current, nothing trained" : "kept current"],
    ["reason", r.reason],
    ...(r.adopted ? [["adopted", `the plain artifact became ${r.adopted}`] as const] : []),
    ["candidate", r.candidateVersion === null ? "-" : `${r.candidateVersion}: ${m(r.candidate)}`],
    ["current (before)", r.current ? `${r.current.registryVersion}: ${m(r.current)}` : "-"],
    ["serving now", r.served],
    ["held-out", `${r.heldOut.eval} eval + ${r.heldOut.human} recent human labels (a comparison needs ${r.heldOut.min})`],
    ["training set", `${r.training.examples} examples: ${r.training.base} base + ${r.training.fromLog} from the log`],
    [
      "from the log",
      `human ${s.human.used}, escalated ${s.escalated.used}, fallback ${s.fallback.used} (${r.provenance.fallback.disagree} disagreeing), high-confidence ${s.highConfidence.used}`,
    ],
    ["pruned", r.pruned.join(", ") || "-"],
    ["time", `${r.seconds.toFixed(1)} s`],
  ]);
}
