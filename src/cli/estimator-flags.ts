/**
 * @module How an outcome model's estimator is chosen, from the command line (`--cv-repeats`,
 * `--head-dims`), shared by `train --outcomes` and `eval-routing` so both fit the same model.
 */
import type { Command } from "commander";
import { DEFAULT_CV_REPEATS, DEFAULT_HEAD_DIMENSIONS, type FitOptions } from "../outcomes/fit.js";
import { nonNegativeInt, positiveInt } from "./parse.js";

export interface EstimatorFlags {
  cvRepeats?: number;
  headDims?: number;
}

/**
 * Adds the estimator flags; `prefix` labels them in `--help` (as `train`'s other outcome flags are). They
 * have no default value of their own, so what was given can be told from what was not: a model records
 * what it was told and `retrain` (`inherit`) repeats it.
 */
export function addEstimatorOptions(command: Command, prefix = "", inherit = false): Command {
  const defaults = inherit
    ? { repeats: "as the current version was trained", dims: "as the current version was trained" }
    : {
        repeats: `${DEFAULT_CV_REPEATS} up to 10,000 prompts, then fewer, down to 1 from 25,001, so about 50,000 out-of-fold predictions are scored`,
        dims: String(DEFAULT_HEAD_DIMENSIONS),
      };
  return command
    .option(
      "--cv-repeats <n>",
      `${prefix}fold partitions the estimator is chosen over (seeds seed, seed+1, ...): steadier choices on small sets, n times the cross-validation time (default: ${defaults.repeats})`,
      positiveInt,
    )
    .option(
      "--head-dims <n>",
      `${prefix}embedding dimensions the logistic head reads: its top principal directions (0, or the embedding's own width or more: all of it; default: ${defaults.dims})`,
      nonNegativeInt,
    );
}

/** The fit options the flags stand for. */
export function estimatorFitOptions(flags: EstimatorFlags): Pick<FitOptions, "repeats" | "headDimensions"> {
  return { repeats: flags.cvRepeats, headDimensions: flags.headDims };
}
