/** @module The softmax head's fit: label smoothing, and the plain fit left exactly as it was without it. */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { DEFAULT_HEAD, type HeadInput } from "../../src/model/head.js";
import { fitSoftmaxHead } from "../../src/train/head-fit.js";

/** Separable rows: label t lights dense dimension t and sparse bucket 7t. */
function dataset(seed: number, rows = 200, labels = 4, dims = 8, buckets = 32): { inputs: HeadInput[]; targets: number[] } {
  const random = seededRandom(seed);
  const targets = Array.from({ length: rows }, () => Math.floor(random() * labels));
  const inputs = targets.map((t) => ({
    dense: Float32Array.from({ length: dims }, (_, d) => (d === t ? 1 : 0) + (random() - 0.5) * 0.4),
    sparse: { indices: Int32Array.of((t * 7) % buckets), values: Float32Array.of(1) },
  }));
  return { inputs, targets };
}

const topProbability = (p: ArrayLike<number>) => Math.max(...Array.from(p));

describe("fitSoftmaxHead", () => {
  const { inputs, targets } = dataset(3);

  it("with label smoothing ε, stops short of certainty: the top probability settles near 1 - ε", () => {
    const plain = fitSoftmaxHead(inputs, targets, 4, 32, DEFAULT_HEAD);
    const smoothed = fitSoftmaxHead(inputs, targets, 4, 32, { ...DEFAULT_HEAD, labelSmoothing: 0.1 });
    const mean = (head: typeof plain) => inputs.reduce((s, x) => s + topProbability(head.probabilities(x)), 0) / inputs.length;
    expect(mean(plain)).toBeGreaterThan(0.98);
    expect(mean(smoothed)).toBeGreaterThan(0.8);
    expect(mean(smoothed)).toBeLessThan(0.95);
    // still the right label on every row
    for (const [i, x] of inputs.entries()) {
      const p = Array.from(smoothed.probabilities(x));
      expect(p.indexOf(topProbability(p))).toBe(targets[i]);
    }
  });

  it("with ε = 0 fits exactly the head it fits without the setting", () => {
    const without = fitSoftmaxHead(inputs, targets, 4, 32, DEFAULT_HEAD);
    const zero = fitSoftmaxHead(inputs, targets, 4, 32, { ...DEFAULT_HEAD, labelSmoothing: 0 });
    expect(zero.weights).toEqual(without.weights);
    expect(zero.bias).toEqual(without.bias);
  });

  it("refuses a smoothing outside [0, 1), naming the setting", () => {
    for (const bad of [-0.1, 1, Number.NaN])
      expect(() => fitSoftmaxHead(inputs, targets, 4, 32, { ...DEFAULT_HEAD, labelSmoothing: bad })).toThrow(/labelSmoothing must be in \[0, 1\)/);
  });
});
