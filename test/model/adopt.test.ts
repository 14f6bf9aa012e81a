// A plain artifact (`triage train --out DIR`) becomes a registry's first version in place.
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adoptArtifact, isPlainArtifact, openRegistry } from "../../src/model/adopt.js";
import { ModelRegistry, resolveModelDir } from "../../src/model/registry.js";
import { tempDir, trainTiers } from "../helpers/tiers.js";

const manifest = {
  schemaVersion: 1,
  version: "m-1",
  encoder: { id: "e", fingerprint: "f", dimensions: 4 },
  labels: ["a", "b"],
  config: { labels: [{ name: "a" }, { name: "b" }] },
};

/** An artifact directory as train writes it (the registry reads only the manifest), plus a subfolder. */
function plainArtifact(): string {
  const dir = join(tempDir(), "models", "example");
  mkdirSync(join(dir, "static", "encoder"), { recursive: true });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  writeFileSync(join(dir, "index.hnsw"), "index bytes");
  writeFileSync(join(dir, "static", "encoder", "static.bin"), "table bytes");
  return dir;
}

describe("adopting a plain artifact", () => {
  it("moves every file into versions/v0001, points current at it and leaves only the registry at the top", async () => {
    const dir = plainArtifact();
    expect(isPlainArtifact(dir)).toBe(true);
    expect(() => new ModelRegistry(dir)).toThrow(/plain model artifact, not a registry; `triage retrain --registry .*` .* adopts it/);
    const adopted = await adoptArtifact(dir);
    expect(adopted.version).toBe("v0001");
    expect(readdirSync(dir).sort()).toEqual(["current", "versions"]);
    const v1 = join(dir, "versions", "v0001");
    expect(JSON.parse(readFileSync(join(v1, "manifest.json"), "utf8"))).toEqual(manifest);
    expect(readFileSync(join(v1, "index.hnsw"), "utf8")).toBe("index bytes");
    expect(readFileSync(join(v1, "static", "encoder", "static.bin"), "utf8")).toBe("table bytes");
    const registry = new ModelRegistry(dir);
    expect(registry.pointer()).toMatchObject({ version: "v0001", previous: null });
    expect(resolveModelDir(dir)).toBe(registry.versionDir("v0001"));
    expect(isPlainArtifact(dir)).toBe(false);
    await expect(adoptArtifact(dir)).rejects.toThrow(/not a plain model artifact/);
  });

  it("refuses to adopt a model folder holding a file triage did not write, and moves nothing", async () => {
    const dir = plainArtifact();
    writeFileSync(join(dir, "notes.txt"), "mine");
    await expect(adoptArtifact(dir)).rejects.toThrow(/cannot adopt .* it also holds notes\.txt, which triage did not write/);
    expect(readdirSync(dir).sort()).toEqual(["index.hnsw", "manifest.json", "notes.txt", "static"]);
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("mine");
  });

  it("openRegistry adopts once and reports it; a leftover of an adoption cut short is replaced", async () => {
    const dir = plainArtifact();
    mkdirSync(join(dir, "versions", ".v0001.adopt.building"), { recursive: true }); // killed before the rename
    writeFileSync(join(dir, "versions", ".v0001.adopt.building", "half"), "");
    const seen: string[] = [];
    const registry = await openRegistry(dir, (a) => seen.push(a.version));
    expect(seen).toEqual(["v0001"]);
    expect(registry.versionNames()).toEqual(["v0001"]);
    expect(readdirSync(registry.versionDir("v0001")).sort()).toEqual(["index.hnsw", "manifest.json", "static"]);
    expect(registry.nextVersion()).toBe("v0002");
    await openRegistry(dir, (a) => seen.push(a.version));
    expect(seen).toEqual(["v0001"]); // already a registry: nothing to adopt
  });

  it("a registry whose adoption stopped after the pointer (top-level files left) still opens", async () => {
    const dir = plainArtifact();
    await adoptArtifact(dir);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest)); // as if removal had not happened yet
    expect(new ModelRegistry(dir).current()).toBe("v0001");
    expect(resolveModelDir(dir)).toBe(join(dir, "versions", "v0001"));
  });

  it("refuses to adopt a damaged artifact, naming its file, and leaves the folder as it was", async () => {
    const dir = join(tempDir(), "models", "example");
    cpSync((await trainTiers(8)).dir, dir, { recursive: true });
    const head = join(dir, "head.bin");
    writeFileSync(head, randomBytes(readFileSync(head).length));
    const before = readdirSync(dir).sort();
    await expect(adoptArtifact(dir)).rejects.toThrow(`${head}: checksum does not match the manifest`);
    await expect(openRegistry(dir)).rejects.toThrow(`${head}: checksum does not match the manifest`);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(isPlainArtifact(dir)).toBe(true);
  });
});
