// A server watching a registry keeps answering with the model it has when its pointer is switched to a
// corrupted version (by hand or by an older triage: promote itself refuses one).
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it, vi } from "vitest";
import { trainIntoRegistry } from "../../src/retrain/publish.js";
import { ModelRegistry } from "../../src/model/registry.js";
import { train } from "../../src/train/train.js";
import { tempDir, tierExamples, TIERS_CONFIG, useEncoder } from "../helpers/tiers.js";
import { startServer } from "./setup.js";

it("a watched registry switching to a version with a corrupted head.bin: reload fails, the old model keeps serving", async () => {
  const encoder = await useEncoder();
  const root = join(tempDir(), "models", "tiers");
  const first = await trainIntoRegistry(root, { data: tierExamples("train", 12), config: TIERS_CONFIG, encoder, folds: 3 });
  const registry = new ModelRegistry(root);
  const second = await train({ data: tierExamples("train", 16), config: TIERS_CONFIG, encoder, folds: 3, out: registry.versionDir("v0002") });
  expect(second.manifest.version).not.toBe(first.manifest.version);
  const head = join(registry.versionDir("v0002"), "head.bin");
  writeFileSync(head, randomBytes(readFileSync(head).length)); // same size: only the checksum can tell

  const errors: Error[] = [];
  const { url, close } = await startServer({ model: root, encoder, config: { providers: [], reload: { watch: true, intervalMs: 50 } }, onError: (e) => errors.push(e) });
  const route = async () => {
    const res = await fetch(`${url}/v1/route`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "how do I reverse a linked list in C?" }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { modelVersion: string; scores: Record<string, number | null> };
  };
  try {
    expect((await route()).modelVersion).toBe(first.manifest.version);
    await expect(registry.promote("v0002")).rejects.toThrow(`${head}: checksum does not match the manifest`);
    writeFileSync(registry.pointerPath, JSON.stringify({ version: "v0002", previous: "v0001" }));
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 20_000, interval: 50 });
    expect(errors[0].message).toContain(`${head}: checksum does not match the manifest`);
    const after = await route();
    expect(after.modelVersion).toBe(first.manifest.version);
    expect(Object.values(after.scores).every((s) => typeof s === "number" && Number.isFinite(s))).toBe(true);
  } finally {
    await close();
  }
});
