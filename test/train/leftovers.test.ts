// A write killed half-way leaves a hidden `.<hex>.building` folder; the next train into the same parent
// removes it, but not a write still in progress nor any other hidden folder.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { tempDir, tierExamples, TIERS_CONFIG, useEncoder } from "../helpers/tiers.js";
import { train } from "../../src/train/train.js";

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** Starts a child that hangs inside an atomic write under `parent`; resolves once its temporary folder exists. */
async function startWrite(parent: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "write-child.ts"), parent, name], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("filling")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`write child exited (${code}) before filling:\n${out}`)));
  });
  return child;
}

const building = (dir: string) => readdirSync(dir).filter((n) => /^\.[0-9a-f]+\.building$/.test(n));

it("the next train removes a killed write's temporary folder, and leaves a live one and unrelated dot-folders alone", async () => {
  const parent = tempDir();
  await startWrite(parent, "first"); // still running during the train below
  const [liveDir] = building(parent);
  const killed = await startWrite(parent, "second");
  const killedDir = building(parent).find((n) => n !== liveDir)!;
  killed.kill("SIGKILL");
  await new Promise((r) => killed.once("exit", r));
  mkdirSync(join(parent, ".cache"));
  writeFileSync(join(parent, ".cache", "keep.txt"), "keep");
  mkdirSync(join(parent, ".drafts.old"));
  expect(building(parent).sort()).toEqual([killedDir, liveDir].sort());

  await train({ data: tierExamples("train", 10), config: TIERS_CONFIG, encoder: await useEncoder(), out: join(parent, "model"), folds: 3, fastPath: "off" });

  expect(readdirSync(parent).sort()).toEqual([".cache", ".drafts.old", liveDir, "model"].sort());
  expect(readdirSync(join(parent, ".cache"))).toEqual(["keep.txt"]);
});
