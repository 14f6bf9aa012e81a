import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBench } from "../../src/eval/bench.js";
import { ModelRegistry } from "../../src/model/registry.js";
import { tempDir, tierExamples, trainTiers } from "../helpers/tiers.js";

describe("bench on the model's own test split", () => {
  it("reports both routers' accuracy, latency and stage shares for the benched model", async () => {
    const trained = await trainTiers(20);
    const test = join(tempDir(), "test.jsonl");
    const examples = tierExamples("test", 5);
    writeFileSync(test, examples.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const report = await runBench({ modelDir: trained.dir, singleQueries: 10, trainSample: 40, test });
    expect(report.datasets).toHaveLength(1);
    const row = report.datasets[0];
    expect(row).toMatchObject({ benchedModel: true, trainSeconds: null, testQueries: examples.length, trainExamples: trained.manifest.data.examples });
    expect(row.full.accuracy).toBeGreaterThan(0.5);
    expect(row.full.latency.p50).toBeGreaterThan(0);
    const shares = Object.values(row.full.stages).reduce((a, b) => a + (b ?? 0), 0);
    expect(shares).toBeCloseTo(1, 6);
    // Measured apart from the third-party datasets: their pooled stage shares stay theirs.
    expect(report.stages).toBeUndefined();
  });

  it("names a test file without examples", async () => {
    const trained = await trainTiers(20);
    const empty = join(tempDir(), "empty.jsonl");
    writeFileSync(empty, "");
    await expect(runBench({ modelDir: trained.dir, singleQueries: 10, trainSample: 40, test: empty })).rejects.toThrow(`${empty}: no labelled examples`);
  });

  it("benches a registry's current version, as route and serve take a registry", async () => {
    const trained = await trainTiers(20);
    const root = join(tempDir(), "registry");
    const registry = new ModelRegistry(root);
    cpSync(trained.dir, registry.versionDir("v0001"), { recursive: true });
    await registry.promote("v0001");
    const test = join(tempDir(), "test.jsonl");
    writeFileSync(
      test,
      tierExamples("test", 3)
        .map((e) => JSON.stringify(e))
        .join("\n") + "\n",
    );
    const report = await runBench({ modelDir: root, singleQueries: 10, trainSample: 40, test });
    expect(report.model).toMatchObject({ dir: root, version: trained.manifest.version });
  });
});
