import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/random.js";
import { fitLogistic } from "../../src/outcomes/logistic.js";
import { fitLogisticOffThread, type LogisticData } from "../../src/outcomes/logistic-pool.js";

function rows(seed: number, n = 60, dims = 8): LogisticData {
  const random = seededRandom(seed);
  const inputs = Array.from({ length: n }, () => Float32Array.from({ length: dims }, () => random() - 0.5));
  const scores = inputs.map((x) => Float64Array.of(x[0] > 0 ? 1 : 0, random() < 0.8 ? 1 : 0));
  return { inputs, scores };
}

const params = { l2: 1e-3, epochs: 20, learningRate: 0.05 };

describe("outcome heads fitted on worker threads", () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  beforeAll(() => process.on("warning", onWarning));
  afterAll(() => process.off("warning", onWarning));

  it("build each queued fit's rows only when one of the workers takes it, and fit them as this thread would", async () => {
    const data = [1, 2, 3, 4, 5, 6].map((seed) => rows(seed));
    let built = 0;
    const fits = data.map((d) =>
      fitLogisticOffThread(
        () => {
          built++;
          return d;
        },
        2,
        params,
        2,
      ),
    );
    expect(built).toBe(2); // one per worker; the other four wait unbuilt
    const models = await Promise.all(fits);
    expect(built).toBe(6);
    models.forEach((m, i) => expect(m.weights).toEqual(fitLogistic(data[i].inputs, data[i].scores, 2, params).weights));
    expect(warnings).toEqual([]);
  });

  it("reject a fit whose rows fail to build, without blaming the workers, which go on fitting", async () => {
    const broken = fitLogisticOffThread(
      () => {
        throw new Error("no rows here");
      },
      2,
      params,
      2,
    );
    await expect(broken).rejects.toThrow("no rows here");
    const d = rows(9);
    const model = await fitLogisticOffThread(() => d, 2, params, 2);
    expect(model.weights).toEqual(fitLogistic(d.inputs, d.scores, 2, params).weights);
    expect(warnings).toEqual([]);
  });
});
