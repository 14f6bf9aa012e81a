import { InvalidArgumentError } from "commander";

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return n;
}

export function unitInterval(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got "${value}"`);
  return n;
}

/** --fast-path-tolerance on the commands that load a model (route, serve, bench). */
export const FAST_PATH_TOLERANCE_HELP = "fast-path operating point: the recorded cut with the largest accuracy tolerance not above x (default: the trained one)";
