import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { buildFeeds, cpuSessionOptions, embedByLength } from "../../../src/encoders/onnx/run.js";
import { buildTinyModel } from "../../helpers/tiny-onnx.js";

describe("cpuSessionOptions", () => {
  it("lets intra-op threads sleep between runs instead of spinning, and a real session takes the options", async () => {
    for (const threads of [undefined, 2]) {
      const options = cpuSessionOptions(threads);
      // A spinning pool keeps the cores busy after each run, away from the event loop (the latency tail).
      expect(options.extra).toEqual({ session: { intra_op: { allow_spinning: "0" } } });
      const session = await ort.InferenceSession.create(buildTinyModel({ vocabSize: 20, dim: 8, tokenTypes: true }).bytes, options);
      const { feeds } = buildFeeds([{ ids: [2, 5, 3] }], 0, session.inputNames);
      const out = await session.run(feeds);
      expect(out[session.outputNames[0]].dims[0]).toBe(1);
      await session.release();
    }
  });
});

describe("embedByLength", () => {
  it("runs only rows of about one length together (padding costs in full), at most batchSize, and answers in input order", async () => {
    const lengths = [12, 3, 40, 4, 3, 13, 15, 41, 3, 3];
    const rows = lengths.map((n, i) => ({ ids: Array.from({ length: n }, () => i) }));
    const runs: number[][] = [];
    const out = await embedByLength(rows, 3, async (batch) => {
      runs.push(batch.map((r) => r.ids.length));
      return batch.map((r) => Float32Array.of(r.ids[0]));
    });
    expect(runs.sort((a, b) => a[0] - b[0] || b.length - a.length)).toEqual([[3, 3, 3], [3], [4], [12, 13, 15], [40, 41]]);
    expect(out.map((v) => v[0])).toEqual(lengths.map((_, i) => i));
  });
});
