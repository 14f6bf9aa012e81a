import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isRegistry, ModelRegistry, parsePointer, resolveModelDir } from "../../src/model/registry.js";
import { checkOutput, type TrainResult } from "../../src/train/train.js";
import { runCli } from "../helpers/cli.js";
import { tempDir, trainTiers } from "../helpers/tiers.js";

/** A version dir with just a valid manifest: enough for the registry, which never loads the parts. */
function addVersion(reg: ModelRegistry, name = reg.nextVersion()): string {
  const dir = reg.versionDir(name);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    schemaVersion: 1,
    version: `m-${name}`,
    encoder: { id: "e", fingerprint: "f", dimensions: 4 },
    labels: ["a", "b"],
    config: { labels: [{ name: "a" }, { name: "b" }] },
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  return name;
}

describe("ModelRegistry", () => {
  it("numbers versions, promotes, remembers the previous one and rolls back (twice = back again)", async () => {
    const reg = new ModelRegistry(join(tempDir(), "reg"));
    expect(reg.current()).toBeNull();
    await expect(reg.rollback()).rejects.toThrow(/no current version/);
    const v1 = addVersion(reg);
    const v2 = addVersion(reg);
    expect([v1, v2]).toEqual(["v0001", "v0002"]);
    await reg.promote(v1);
    await expect(reg.rollback()).rejects.toThrow(/no previous version/);
    await reg.promote(v2);
    expect(reg.pointer()).toMatchObject({ version: "v0002", previous: "v0001" });
    expect(isRegistry(reg.root)).toBe(true);
    expect(resolveModelDir(reg.root)).toBe(reg.versionDir("v0002"));
    expect(await reg.rollback()).toEqual({ from: "v0002", to: "v0001" });
    expect(reg.pointer()).toMatchObject({ version: "v0001", previous: "v0002" });
    expect(await reg.rollback()).toEqual({ from: "v0001", to: "v0002" });
    // As retrain switches: only if what it compared against still serves.
    await expect(reg.promote(v1, { expectCurrent: v1 })).rejects.toThrow(`${reg.root}: the current version changed to v0002 meanwhile (expected v0001); not switching`);
    expect(reg.current()).toBe(v2);
    expect((await reg.promote(v1, { expectCurrent: v2 })).version).toBe(v1);
    await reg.promote(v2);
    expect(reg.list().map((v) => [v.version, v.current, v.previous, v.manifest?.version])).toEqual([
      ["v0001", false, true, "m-v0001"],
      ["v0002", true, false, "m-v0002"],
    ]);
  });

  it("refuses to point at a version that is missing or has no manifest", async () => {
    const reg = new ModelRegistry(join(tempDir(), "reg"));
    mkdirSync(reg.versionDir("v0001"), { recursive: true });
    await expect(reg.promote("v0001")).rejects.toThrow(/not a triage model/);
    await expect(reg.promote("v0009")).rejects.toThrow(/v0009/);
    expect(() => reg.versionDir("../x")).toThrow(/invalid version name/);
    expect(reg.current()).toBeNull();
    writeFileSync(reg.pointerPath, JSON.stringify({ version: "v0042" }));
    expect(() => resolveModelDir(reg.root)).toThrow(/points to version "v0042".*does not exist/);
  });

  it("prunes the oldest versions beyond the limit but never current or previous, and stale build leftovers", async () => {
    const reg = new ModelRegistry(join(tempDir(), "reg"));
    for (let i = 0; i < 6; i++) addVersion(reg);
    await reg.promote("v0001");
    await reg.promote("v0002");
    await reg.rollback(); // current v0001, previous v0002: both the oldest
    const stale = join(reg.root, "versions", ".abc123.building");
    const fresh = join(reg.root, "versions", ".def456.building");
    mkdirSync(stale);
    mkdirSync(fresh);
    utimesSync(stale, new Date(0), new Date(0));
    expect(reg.prune(3)).toEqual(["v0003", "v0004", "v0005"]);
    expect(reg.versionNames()).toEqual(["v0001", "v0002", "v0006"]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true); // may be a build in progress
    expect(reg.nextVersion()).toBe("v0007");
    expect(() => reg.prune(0)).toThrow(/positive integer/);
  });

  it("writes only into an empty folder or a registry; a `current` that is not a pointer and a registry as --out are refused", async () => {
    const notes = join(tempDir(), "notes");
    mkdirSync(notes);
    writeFileSync(join(notes, "todo.md"), "mine");
    expect(() => new ModelRegistry(notes)).toThrow(`${notes}: is not a model registry (no \`current\` pointer or versions/ folder) and not empty`);
    const odd = join(tempDir(), "odd");
    mkdirSync(odd);
    writeFileSync(join(odd, "current"), "meeting notes, do not delete\n");
    const reg = new ModelRegistry(odd); // a `current` file makes it look like one...
    addVersion(reg);
    await expect(reg.promote("v0001")).rejects.toThrow(/current: not a model pointer/); // ...but it is not overwritten
    expect(readFileSync(join(odd, "current"), "utf8")).toBe("meeting notes, do not delete\n");
    const real = new ModelRegistry(join(tempDir(), "reg"));
    addVersion(real);
    await real.promote("v0001");
    expect(() => checkOutput({ out: real.root, data: [] })).toThrow(/it is a model registry; add a version with --registry instead/);
  });

  it("accepts a hand-written pointer holding just a version name; rejects junk with the file named", () => {
    expect(parsePointer("v0003\n", "p")).toEqual({ version: "v0003", previous: null, switchedAt: "" });
    expect(() => parsePointer("{oops", "/x/current")).toThrow(/\/x\/current: model pointer is not valid JSON/);
    expect(() => parsePointer("", "/x/current")).toThrow(/empty/);
  });

  it("a reader never sees a partial pointer while another process switches it back and forth", async () => {
    const reg = new ModelRegistry(join(tempDir(), "reg"));
    addVersion(reg);
    addVersion(reg);
    await reg.promote("v0001");
    const script = `
      import { ModelRegistry } from ${JSON.stringify(join(import.meta.dirname, "..", "..", "src", "model", "registry.ts"))};
      const reg = new ModelRegistry(${JSON.stringify(reg.root)});
      for (let i = 0; i < 400; i++) await reg.promote(i % 2 ? "v0001" : "v0002");
      process.stdout.write("done");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    const seen = new Set<string>();
    let reads = 0;
    while (child.exitCode === null && reads < 200_000) {
      seen.add(parsePointer(readFileSync(reg.pointerPath, "utf8"), "pointer").version); // throws on a torn read
      reads++;
      if (reads % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await exited).toBe(0);
    expect(out).toBe("done");
    expect([...seen].every((v) => v === "v0001" || v === "v0002")).toBe(true);
    expect(readdirSync(reg.root).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("promote and rollback verify the version first", () => {
  let trained: TrainResult;
  beforeAll(async () => {
    trained = await trainTiers(12);
  });

  /** A registry holding `n` copies of a real trained tier model, v0001 current. */
  async function registryOf(n: number): Promise<ModelRegistry> {
    const reg = new ModelRegistry(join(tempDir(), "reg"));
    for (let i = 0; i < n; i++) cpSync(trained.dir, reg.versionDir(reg.nextVersion()), { recursive: true });
    await reg.promote("v0001");
    return reg;
  }

  it.each([
    ["head.bin", "overwritten, same size", (p: string) => writeFileSync(p, randomBytes(readFileSync(p).length)), "checksum does not match the manifest"],
    ["index.hnsw", "truncated", (p: string) => truncateSync(p, readFileSync(p).length >> 1), "checksum does not match the manifest"],
    ["examples.jsonl", "deleted", (p: string) => rmSync(p), "missing"],
  ])("refuses to promote a version whose %s was %s, naming the file; current is untouched", async (file, _how, damage, problem) => {
    const reg = await registryOf(2);
    const path = join(reg.versionDir("v0002"), file);
    damage(path);
    const before = readFileSync(reg.pointerPath, "utf8");
    await expect(reg.promote("v0002")).rejects.toThrow(`${path}: ${problem}`);
    await expect(reg.promote("v0002")).rejects.toThrow(/; not switching to v0002$/);
    expect(readFileSync(reg.pointerPath, "utf8")).toBe(before);
    expect(resolveModelDir(reg.root)).toBe(reg.versionDir("v0001"));
  });

  it("refuses to roll back to a damaged version; a manifest without checksums (older triage) still switches", async () => {
    const reg = await registryOf(3);
    await reg.promote("v0002");
    const head = join(reg.versionDir("v0001"), "head.bin");
    writeFileSync(head, new Uint8Array(readFileSync(head).length));
    const before = readFileSync(reg.pointerPath, "utf8");
    await expect(reg.rollback()).rejects.toThrow(
      `${head}: checksum does not match the manifest (corrupted or replaced); retrain the model or restore the artifact; not switching to v0001`,
    );
    await expect(reg.rollback("v0001")).rejects.toThrow(`${head}: checksum does not match the manifest`);
    expect(readFileSync(reg.pointerPath, "utf8")).toBe(before);
    const manifest = join(reg.versionDir("v0003"), "manifest.json");
    const { checksums: _, ...unsealed } = JSON.parse(readFileSync(manifest, "utf8")) as { checksums?: unknown };
    writeFileSync(manifest, JSON.stringify(unsealed));
    expect(await reg.rollback("v0003")).toEqual({ from: "v0002", to: "v0003" });
  });

  it("`triage rollback` to a damaged tier or outcome model exits 1 with one line naming the file", async () => {
    const tiers = await registryOf(2);
    await tiers.promote("v0002");
    const outcomes = new ModelRegistry(join(tempDir(), "outcomes"));
    const trainedOutcomes = await runCli(["train", "--outcomes", "data/outcomes/example.jsonl", "--registry", outcomes.root, "--encoder", "use"]);
    expect(trainedOutcomes.code, trainedOutcomes.stderr).toBe(0);
    cpSync(outcomes.versionDir("v0001"), outcomes.versionDir("v0002"), { recursive: true });
    await outcomes.promote("v0002");
    for (const [reg, file] of [
      [tiers, "centroids.bin"],
      [outcomes, "scores.bin"],
    ] as const) {
      const path = join(reg.versionDir("v0001"), file);
      writeFileSync(path, randomBytes(readFileSync(path).length));
      const before = readFileSync(reg.pointerPath, "utf8");
      const r = await runCli(["rollback", "--registry", reg.root]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^triage: ${path}: checksum does not match the manifest .*; not switching to v0001$`))]);
      expect(readFileSync(reg.pointerPath, "utf8")).toBe(before);
    }
  });
});
