/**
 * Cheap surface features of a prompt, next to the sentence embedding in the logistic head: sentence
 * encoders barely see length or how many numbers a problem juggles, yet both predict which model fails.
 * (Adding the rules' keyword flag and a math-symbol count lowered train-CV AIQ on all five datasets: left out.)
 */

export interface FeatureScaler {
  mean: number[];
  std: number[];
}

const NUMBER = /\d+(?:[.,]\d+)*/g;
const WORD = /\S+/g;

export function surfaceFeatures(text: string): number[] {
  const numbers = text.match(NUMBER)?.length ?? 0;
  const words = text.match(WORD)?.length ?? 0;
  const lines = text.split("\n").length;
  const questions = text.split("?").length - 1;
  return [Math.log1p(text.length), Math.log1p(words), Math.log1p(numbers), Math.log1p(lines), Math.log1p(questions)];
}

export function fitScaler(rows: readonly number[][]): FeatureScaler {
  const d = rows[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const r of rows) r.forEach((v, k) => (mean[k] += v / rows.length));
  for (const r of rows) r.forEach((v, k) => (std[k] += (v - mean[k]) ** 2 / rows.length));
  return { mean, std: std.map((s) => Math.sqrt(s) || 1) };
}

/** The embedding followed by the standardised surface features of its text. */
export function withSurfaceFeatures(vector: Float32Array, text: string, scaler: FeatureScaler): Float32Array {
  const f = surfaceFeatures(text);
  const out = new Float32Array(vector.length + f.length);
  out.set(vector);
  f.forEach((v, k) => (out[vector.length + k] = (v - scaler.mean[k]) / scaler.std[k]));
  return out;
}
