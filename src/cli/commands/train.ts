import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { resolveEncoder } from "../../encoders/resolve.js";
import { openRegistry } from "../../model/adopt.js";
import { checkOutput, train, type TrainOptions } from "../../train/train.js";
import { isPostgresUrl } from "../../model/registry-pg-url.js";
import { trainIntoRegistry } from "../../retrain/publish.js";
import { publishTrained } from "../../retrain/publish-pg.js";
import { DEFAULT_WORD_DROPOUT } from "../../train/augment.js";
import { accuracyInWords, blendInWords, combinationInWords, confidenceInWords, fastPathInWords } from "../describe.js";
import { info, keyValues, pct, progressBar, withRate } from "../output.js";
import { nonNegativeInt, positiveInt, unitInterval } from "../parse.js";
import { addOutcomeOptions, trainOutcomes, type TrainOutcomesOptions } from "./train-outcomes.js";

export function registerTrain(program: Command): void {
  const command = program
    .command("train")
    .description("embed labelled examples, fit kNN index + centroids + head, calibrate, write a model artifact (with --outcomes: an outcome model)")
    .option("--data <file>", "labelled examples: JSONL or CSV, '-' for stdin (JSONL)")
    .option("--out <dir>", "artifact directory to write atomically; an existing one is replaced only if it holds a triage model and nothing else")
    .option("--registry <dir|url>", "instead of --out: write a new version into this model registry (a folder, or a shared one, postgres://…) and make it current")
    .option("--config <file>", "tiers/routes config (YAML or JSON): labels in cost order, prices, rules, policy")
    .option("--text-field <name>", "field holding the query text", "text")
    .option("--label-field <name>", "field holding the label", "label")
    .option("--encoder <spec>", "auto | use | onnx | onnx:DIR (auto: ONNX MiniLM if pulled, else the npm-shipped encoder)", "auto")
    .option("--folds <n>", "cross-validation folds (default 5, or 3 from 2,000 examples)", positiveInt)
    .option("--target-accuracy <x>", "accuracy the confident decisions must reach (default: config, else 0.95)", unitInterval)
    .option("--fast-path <mode>", "train the static fast-path stage: auto (from 1,000 examples) | on | off", "auto")
    .option("--fast-path-tolerance <x>", "accuracy (share of queries) the fast path may give up vs the full router; more = more queries decided fast", unitInterval)
    .option(
      "--fast-path-coverage-tolerance <x>",
      "share of queries the fast path may settle as low-confidence although the full router would be confident; more = fewer full-encoder calls",
      unitInterval,
    )
    .option(
      "--fast-path-word-dropout <copies>",
      "word-dropout copies of each example the fast path's head also trains on (0: off; default 4, each leaving out 10% of the words); more = slower training",
      nonNegativeInt,
    )
    .option("--json", "print the manifest as JSON on stdout");
  addOutcomeOptions(command).action(
    async (
      opts: Omit<TrainOutcomesOptions, "outcomes"> & {
        outcomes?: string;
        data?: string;
        out?: string;
        registry?: string;
        config?: string;
        textField: string;
        labelField: string;
        encoder: string;
        folds?: number;
        targetAccuracy?: number;
        fastPath: string;
        fastPathTolerance?: number;
        fastPathCoverageTolerance?: number;
        fastPathWordDropout?: number;
        json?: boolean;
      },
    ) => {
      if (opts.outcomes !== undefined) {
        if (opts.data !== undefined) throw new TriageError("train: give --data (labelled examples) or --outcomes (per-model outcomes), not both");
        return trainOutcomes({ ...opts, outcomes: opts.outcomes });
      }
      const data = opts.data;
      if (data === undefined) throw new TriageError("train: give --data FILE (labelled examples) or --outcomes FILE|DIR (per-model outcomes)");
      if ((opts.out === undefined) === (opts.registry === undefined)) throw new TriageError("train: give either --out DIR or --registry DIR");
      // Before loading the encoder: a refused --out or --registry should cost nothing.
      const shared = opts.registry !== undefined && isPostgresUrl(opts.registry) ? opts.registry : undefined;
      const registry =
        opts.registry !== undefined && shared === undefined
          ? await openRegistry(opts.registry, (a) => info(`${opts.registry} held a plain model artifact: adopted it as ${a.version}, the registry's first version`))
          : undefined;
      if (opts.out !== undefined) checkOutput({ out: opts.out, data, config: opts.config });
      const { encoder, reason, ref } = await resolveEncoder({ spec: opts.encoder });
      info(`encoder: ${encoder.id} (${reason})`);
      const bar = progressBar("embedding");
      let started = 0;
      let update: (v: number) => void = () => {};
      const options: Omit<TrainOptions, "out"> = {
        data,
        config: opts.config,
        textField: opts.textField,
        labelField: opts.labelField,
        encoder,
        encoderRef: ref,
        folds: opts.folds,
        targetAccuracy: opts.targetAccuracy,
        fastPath: fastPathMode(opts.fastPath),
        fastPathTolerance: opts.fastPathTolerance,
        fastPathCoverageTolerance: opts.fastPathCoverageTolerance,
        ...(opts.fastPathWordDropout !== undefined ? { fastPathWordDropout: { ...DEFAULT_WORD_DROPOUT, copies: opts.fastPathWordDropout } } : {}),
        onWarning: (m) => info(`warning: ${m}`),
        onProgress: (p) => {
          if (p.phase === "embed") {
            if (started === 0) {
              started = Date.now();
              bar.start(p.total, 0, { rate: "0" });
              update = withRate(bar, started);
            }
            update(p.done);
          } else if (p.phase === "crossval") {
            if (p.fold === 1) bar.stop();
            info(`cross-validation: fold ${p.fold}/${p.folds}`);
          } else if (p.phase === "fit") info("fitting on all examples, building the HNSW index");
          else if (p.phase === "fast-path") info(p.message);
        },
      };
      // Into a registry: a new version, made current, older ones pruned (as retrain does). A shared one gets
      // the artifact trained in a scratch folder; replicas following it load the new version.
      const intoShared = async (url: string) => {
        const p = await publishTrained(url, (dir) => train({ ...options, out: dir }));
        return { ...p.built, dir: "the database", version: p.version, pruned: p.pruned, root: p.location };
      };
      const published = shared ? await intoShared(shared) : registry ? { ...(await trainIntoRegistry(registry.root, options)), root: registry.root } : undefined;
      const result = published ?? (await train({ ...options, out: opts.out! }));
      await encoder.close?.();
      if (published) info(`${published.root}: current -> ${published.version}${published.pruned.length ? ` (pruned ${published.pruned.join(", ")})` : ""}`);
      const m = result.manifest;
      if (opts.json) {
        process.stdout.write(JSON.stringify(m) + "\n");
        return;
      }
      const sec = (x: number) => `${x.toFixed(1)} s`;
      info(
        "\n" +
          keyValues([
            ["model", m.version],
            ["written to", published ? `${result.dir} (version ${published.version} of ${published.root}, now current)` : result.dir],
            ["examples", `${m.data.examples} (${m.data.duplicates} exact duplicates dropped, ${m.data.conflicts} texts with two labels: first label kept)`],
            ["labels", `${m.labels.join(", ")}${m.ordered ? " (tiers, cheapest first)" : " (named routes)"}`],
            ["accuracy", accuracyInWords(m)],
            ["macro-F1", `${pct(m.metrics.cv.macroF1)} (accuracy averaged over labels, so rare labels count as much as common ones)`],
            ["how it decides", combinationInWords(m.combination)],
            ["confident decisions", confidenceInWords(m)],
            ...(m.stages?.static ? [["fast path", fastPathInWords(m.stages.static)]] : []),
            ...(m.stages?.static?.blend ? [["blend", blendInWords(m.stages.static.blend, m.stages.static.calibratedOn)]] : []),
            [
              "time",
              `${sec(result.seconds.total)} (embedding ${sec(result.seconds.embed)}, cross-validation ${sec(result.seconds.crossval)}, final fit ${sec(result.seconds.fit)})`,
            ],
          ]),
      );
    },
  );
}

function fastPathMode(value: string): "auto" | "on" | "off" {
  if (value === "auto" || value === "on" || value === "off") return value;
  throw new TriageError(`--fast-path: expected auto, on or off, got "${value}"`);
}
