import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { DEFAULT_HEAD, type HeadInput } from "../../src/model/head.js";
import { fitSoftmaxHead } from "../../src/train/head-fit.js";
import { trainHead } from "../../src/train/head-pool.js";

function dataset(seed: number, rows = 300, labels = 5, dims = 16, buckets = 64): { inputs: HeadInput[]; targets: number[] } {
  const random = seededRandom(seed);
  const targets = Array.from({ length: rows }, () => Math.floor(random() * labels));
  const inputs = targets.map((t) => {
    const dense = Float32Array.from({ length: dims }, (_, d) => (d === t ? 1 : 0) + (random() - 0.5) * 0.8);
    const count = 1 + Math.floor(random() * 4);
    const indices = Int32Array.from({ length: count }, (_, k) => (k === 0 ? t * 7 : Math.floor(random() * buckets)) % buckets);
    const values = Float32Array.from({ length: count }, () => 1 / Math.sqrt(count));
    return { dense, sparse: { indices, values } };
  });
  return { inputs, targets };
}

describe("training heads on worker threads", () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  beforeAll(() => {
    process.env.TRIAGE_TRAIN_THREADS = "2"; // the worker path even on a one-core machine
    process.on("warning", onWarning);
  });
  afterAll(() => {
    delete process.env.TRIAGE_TRAIN_THREADS;
    process.off("warning", onWarning);
  });

  it("gives exactly the head the calling thread trains, for jobs queued beyond the workers too", async () => {
    const sets = [1, 2, 3, 4].map((seed) => dataset(seed));
    const params = { ...DEFAULT_HEAD, epochs: 3 };
    const fromWorkers = await Promise.all(sets.map((s) => trainHead(s.inputs, s.targets, 5, 64, params)));
    expect(warnings.filter((w) => w.includes("worker"))).toEqual([]);
    sets.forEach((s, i) => {
      const local = fitSoftmaxHead(s.inputs, s.targets, 5, 64, params);
      expect(fromWorkers[i].weights).toEqual(local.weights);
      expect(fromWorkers[i].bias).toEqual(local.bias);
      expect([fromWorkers[i].labels, fromWorkers[i].denseDims, fromWorkers[i].sparseDims]).toEqual([5, 16, 64]);
    });
    // and the heads learned something: different data, different weights, sensible predictions
    expect(fromWorkers[0].weights).not.toEqual(fromWorkers[1].weights);
    const probe = dataset(9, 100);
    const correct = probe.inputs.filter((x, i) => {
      const p = fromWorkers[0].probabilities(x);
      return p.indexOf(Math.max(...p)) === probe.targets[i];
    }).length;
    expect(correct).toBeGreaterThan(80);
  });

  it("leaves the inputs usable: they are copied, not transferred", async () => {
    const { inputs, targets } = dataset(5, 50);
    await trainHead(inputs, targets, 5, 64, { ...DEFAULT_HEAD, epochs: 1 });
    expect(inputs[0].dense.length).toBe(16);
    expect(inputs[49].sparse.indices.length).toBeGreaterThan(0);
  });

  it("refuses a thread count that is not a positive integer, naming the variable", async () => {
    const { inputs, targets } = dataset(6, 10);
    process.env.TRIAGE_TRAIN_THREADS = "two";
    try {
      await expect(trainHead(inputs, targets, 5, 64, DEFAULT_HEAD)).rejects.toThrow(/TRIAGE_TRAIN_THREADS must be a positive integer, got "two"/);
    } finally {
      process.env.TRIAGE_TRAIN_THREADS = "2";
    }
  });
});
