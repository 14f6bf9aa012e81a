/** @module Which SGD schedule the full stage's head gets: the faster one on large sets only. */
import { describe, expect, it } from "vitest";
import { train } from "../../src/train/train.js";
import { FakeTeacher } from "../helpers/static-fixtures.js";
import { TIERS_CONFIG, tempDir, tierExamples } from "../helpers/tiers.js";

/** n distinct examples from the shipped tiers (numbered copies once those run out). */
function examples(n: number) {
  const base = tierExamples("train", 1000);
  return Array.from({ length: n }, (_, i) => ({ text: `${base[i % base.length].text} #${i}`, label: base[i % base.length].label }));
}

describe("the full stage's head", () => {
  it("trains 5 epochs at rate 3 with label smoothing 0.05 from 2,000 examples, 10 at rate 1 without smoothing below", async () => {
    for (const [n, schedule] of [
      [2000, { epochs: 5, learningRate: 3, labelSmoothing: 0.05 }],
      [1999, { epochs: 10, learningRate: 1 }],
    ] as const) {
      const { manifest } = await train({ data: examples(n), config: TIERS_CONFIG, encoder: new FakeTeacher(), out: `${tempDir()}/m`, fastPath: "off" });
      expect(manifest.params.head).toMatchObject(schedule);
      if (n < 2000) expect(manifest.params.head.labelSmoothing).toBeUndefined();
    }
  }, 300_000);
});
