import { TriageError } from "../common/errors.js";
import { seededRandom, shuffleInPlace } from "../common/random.js";
import type { OutcomeSet } from "./set.js";

/**
 * Seeded split by prompt: rows with the same text always land on the same side, so the test split
 * never holds a prompt the router saw in training. `trainShare` of the distinct prompts go to train.
 */
export function splitByPrompt(set: OutcomeSet, trainShare: number, seed: number): { train: OutcomeSet; test: OutcomeSet } {
  if (!(trainShare > 0 && trainShare < 1)) throw new TriageError(`--split must be between 0 and 1 (exclusive), got ${trainShare}`);
  const texts = [...new Set(set.prompts.map((p) => p.text))].sort();
  shuffleInPlace(texts, seededRandom(seed));
  const cut = Math.round(texts.length * trainShare);
  if (cut === 0 || cut === texts.length) throw new TriageError(`--split ${trainShare} of ${texts.length} distinct prompts leaves one side empty`);
  const inTrain = new Set(texts.slice(0, cut));
  return {
    train: { ...set, prompts: set.prompts.filter((p) => inTrain.has(p.text)) },
    test: { ...set, prompts: set.prompts.filter((p) => !inTrain.has(p.text)) },
  };
}

/**
 * A seeded random subset of `n` distinct prompts (all rows of each kept text), for data too large to embed
 * in the time at hand. Distinct texts in first-seen order, shuffled by `seed`, first `n` kept.
 */
export function samplePrompts(set: OutcomeSet, n: number, seed: number): OutcomeSet {
  const texts = shuffleInPlace([...new Set(set.prompts.map((p) => p.text))], seededRandom(seed));
  if (n >= texts.length) return set;
  const keep = new Set(texts.slice(0, n));
  return { ...set, prompts: set.prompts.filter((p) => keep.has(p.text)), notes: [...set.notes, `seeded random sample of ${n} of ${texts.length} distinct prompts`] };
}
