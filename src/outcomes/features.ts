/**
 * Cheap surface features of a prompt, for the logistic heads: sentence encoders barely see how long a
 * problem is, how many numbers it juggles or how many steps it takes, yet those predict which model fails.
 * Two sets; cross-validation picks per dataset:
 *  - basic: length in characters and words, numbers, lines, question marks;
 *  - extended: those plus sentences, arithmetic, percentages/fractions/decimals, money and units,
 *    multi-step words, code cues, the rules' hard keywords, answer options, negations, blanks, and the
 *    shape of the text (word length, digit and capital shares, largest and distinct numbers).
 */
import { HARD_KEYWORDS } from "./baselines.js";

export type FeatureSet = "basic" | "extended";

export interface FeatureScaler {
  mean: number[];
  std: number[];
}

const NUMBER = /\d+(?:[.,]\d+)*/g;
const WORD = /\S+/g;
const SENTENCE_END = /[.!?](?=\s|$)/g;
const ARITHMETIC = /\d\s*[-+*/×÷=^]\s*\d|[=×÷√∑∫^]/g;
const PART = /%|\bpercent\b|\d+\s*\/\s*\d+|\d\.\d|\bhalf\b|\bthird\b|\bquarter\b/gi;
const MONEY_UNIT =
  /\$|€|£|\b(?:dollars?|cents?|hours?|minutes?|seconds?|days?|weeks?|months?|years?|miles?|km|kilometers?|meters?|feet|foot|inch(?:es)?|pounds?|kg|grams?|liters?|gallons?|mph)\b/gi;
const STEP = /\b(?:then|after|each|every|total|remaining|left|more than|less than|times|twice|per|rest|altogether|respectively|if|how many|how much)\b/gi;
const CODE = /```|\bdef\b|\breturn\b|\bclass\b|\bimport\b|\bfunction\b|[{};]|=>|\bassert\b/g;
const OPTION = /(?:^|\n)\s*\(?[A-Da-d][).:]\s/g;
const NEGATION = /\b(?:not|never|except|least|false|incorrect|none)\b/gi;
const BLANK = /_{1,}/g;

const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

export function surfaceFeatures(text: string, set: FeatureSet = "basic"): number[] {
  const numbers = text.match(NUMBER) ?? [];
  const words = text.match(WORD) ?? [];
  const basic = [Math.log1p(text.length), Math.log1p(words.length), Math.log1p(numbers.length), Math.log1p(text.split("\n").length), Math.log1p(text.split("?").length - 1)];
  if (set === "basic") return basic;
  const letters = text.replace(/[^A-Za-z]/g, "");
  const digits = text.replace(/\D/g, "").length;
  const values = numbers.map((n) => Number(n.replace(/,/g, ""))).filter(Number.isFinite);
  return [
    ...basic,
    Math.log1p(count(text, SENTENCE_END)),
    Math.log1p(count(text, ARITHMETIC)),
    Math.log1p(count(text, PART)),
    Math.log1p(count(text, MONEY_UNIT)),
    Math.log1p(count(text, STEP)),
    Math.log1p(count(text, CODE)),
    HARD_KEYWORDS.test(text) ? 1 : 0,
    Math.log1p(count(text, OPTION)),
    Math.log1p(count(text, NEGATION)),
    Math.log1p(count(text, BLANK)),
    words.length ? letters.length / words.length : 0,
    text.length ? digits / text.length : 0,
    letters.length ? letters.replace(/[^A-Z]/g, "").length / letters.length : 0,
    Math.log10(1 + Math.max(0, ...values.map(Math.abs))),
    Math.log1p(new Set(values).size),
  ];
}

export function fitScaler(rows: readonly number[][]): FeatureScaler {
  const d = rows[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const r of rows) r.forEach((v, k) => (mean[k] += v / rows.length));
  for (const r of rows) r.forEach((v, k) => (std[k] += (v - mean[k]) ** 2 / rows.length));
  return { mean, std: std.map((s) => Math.sqrt(s) || 1) };
}

/** Surface features already computed, standardised with the training rows' scaler. */
export function scaleFeatures(raw: readonly number[], scaler: FeatureScaler): Float32Array {
  return Float32Array.from(raw, (v, k) => (v - scaler.mean[k]) / scaler.std[k]);
}

/** The standardised surface features of a text (the input of a surface-only head). */
export function scaledFeatures(text: string, scaler: FeatureScaler, set: FeatureSet = "basic"): Float32Array {
  return scaleFeatures(surfaceFeatures(text, set), scaler);
}

/** The embedding followed by standardised features. */
export function appendFeatures(vector: Float32Array, features: Float32Array): Float32Array {
  const out = new Float32Array(vector.length + features.length);
  out.set(vector);
  out.set(features, vector.length);
  return out;
}

/** The embedding followed by the standardised surface features of its text. */
export function withSurfaceFeatures(vector: Float32Array, text: string, scaler: FeatureScaler, set: FeatureSet = "basic"): Float32Array {
  return appendFeatures(vector, scaledFeatures(text, scaler, set));
}
