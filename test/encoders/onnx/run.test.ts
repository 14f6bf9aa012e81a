import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { buildFeeds, cpuSessionOptions } from "../../../src/encoders/onnx/run.js";
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
