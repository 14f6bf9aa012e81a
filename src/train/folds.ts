import { seededRandom, shuffleInPlace } from "../common/random.js";

/** Stratified k-fold assignment: each label's examples are spread evenly over the folds. */
export function stratifiedFolds(targets: readonly number[], folds: number, seed: number): Int32Array {
  const fold = new Int32Array(targets.length);
  const byLabel = new Map<number, number[]>();
  targets.forEach((t, i) => byLabel.set(t, [...(byLabel.get(t) ?? []), i]));
  const random = seededRandom(seed);
  let offset = 0;
  for (const members of byLabel.values()) {
    shuffleInPlace(members, random);
    // Rotate the start so small labels do not all land in fold 0.
    members.forEach((i, k) => (fold[i] = (k + offset) % folds));
    offset += members.length;
  }
  return fold;
}
