/**
 * @module How an outcome model's estimator is chosen, from the command line (`--cv-repeats`,
 * `--head-dims`), shared by `train --outcomes` and `eval-routing` so both fit the same model.
 */
import type { Command } from "commander";
import { DEFAULT_CV_REPEATS, DEFAULT_HEAD_DIMENSIONS, type FitOptions } from "../outcomes/fit.js";
import { nonNegativeInt, positiveInt } from "./parse.js";

export interface EstimatorFlags {
  cvRepeats: number;
  headDims: number;
}

/**
 * Adds the estimator flags; `prefix` labels them in `--help` (as `train`'s other outcome flags are). With
 * `inherit`, they have no default of their own: `retrain` then takes the current version's.
 */
export function addEstimatorOptions(command: Command, prefix = "", inherit = false): Command {
  const inherited = inherit ? " (default: the current version's)" : ""; // commander prints a default of its own
  return command
    .option(
      "--cv-repeats <n>",
      `${prefix}fold partitions the estimator is chosen over (seeds seed, seed+1, ...): steadier choices on small sets, n times the cross-validation time${inherited}`,
      positiveInt,
      inherit ? undefined : DEFAULT_CV_REPEATS,
    )
    .option(
      "--head-dims <n>",
      `${prefix}embedding dimensions the logistic head reads: its top principal directions (0, or the embedding's own width or more: all of it)${inherited}`,
      nonNegativeInt,
      inherit ? undefined : DEFAULT_HEAD_DIMENSIONS,
    );
}

/** The fit options the flags stand for. */
export function estimatorFitOptions(flags: EstimatorFlags): Pick<FitOptions, "repeats" | "headDimensions"> {
  return { repeats: flags.cvRepeats, headDimensions: flags.headDims };
}
