// SIGKILL a retrain half-way: the served model must be intact and loadable, and the next retrain must work.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { retrain } from "../../src/retrain/retrain.js";
import { ModelRegistry } from "../../src/model/registry.js";
import { Router } from "../../src/router/router.js";
import { DecisionLog } from "../../src/store/index.js";
import { tempDir, tierExamples } from "../helpers/tiers.js";
import { makeDecision } from "../store/make-decision.js";
import { cachedUse, registryWith } from "./helpers.js";

const toJsonl = (xs: { text: string; label: string }[]) => xs.map((x) => JSON.stringify(x)).join("\n") + "\n";

it.each([
  // while the candidate is being trained (its version dir not yet written)
  { at: /cross-validation fold 1/, versionsAfterKill: ["v0001"], next: "v0002" },
  // after the candidate was written, while it is evaluated, before any pointer switch: the next run
  // finds that complete candidate of the same data and measures it instead of training a copy
  { at: /evaluating v0002/, versionsAfterKill: ["v0001", "v0002"], next: "v0002" },
])("a retrain killed mid-way ($at) leaves the current model intact; its stale lock does not block the next one", async ({ at, versionsAfterKill, next }) => {
  const base = tierExamples("train", 5);
  const root = await registryWith(base);
  const work = tempDir();
  const basePath = join(work, "base.jsonl");
  const evalPath = join(work, "eval.jsonl");
  writeFileSync(basePath, toJsonl(base));
  writeFileSync(evalPath, toJsonl(tierExamples("test", 12)));
  const logPath = join(work, "decisions.db");
  const log = DecisionLog.open(logPath);
  const extra = tierExamples("train", 40).filter((e) => !base.some((b) => b.text === e.text));
  extra.forEach((e, i) => log.log(makeDecision({ requestId: `h${i}` }), e.text));
  extra.forEach((e, i) => log.feedback(`h${i}`, { kind: "label", humanLabel: e.label }));
  log.close();
  const before = new ModelRegistry(root).pointer();

  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "retrain-child.ts"), root, basePath, logPath, evalPath], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const killedAt = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (at.test(out) && !child.killed) {
        child.kill("SIGKILL");
        resolve(out);
      }
    });
    child.on("exit", () => reject(new Error(`child exited before it could be killed:\n${out}`)));
  });
  await new Promise((r) => child.once("exit", r));
  expect(child.signalCode).toBe("SIGKILL");
  expect(killedAt).not.toMatch(/^done/m);

  const registry = new ModelRegistry(root);
  expect(registry.pointer()).toEqual(before);
  expect(registry.versionNames()).toEqual(versionsAfterKill);
  expect(existsSync(join(root, ".retrain.lock"))).toBe(true); // left behind by the killed process
  const router = await Router.load(root, { encoder: await cachedUse() });
  expect(router.version).toBe(registry.list()[0].manifest!.version);
  expect((await router.classify("Summarise this paragraph in two sentences.")).label).toBeTruthy();

  const report = await retrain({
    registry: root,
    baseData: basePath,
    logDb: logPath,
    evalData: evalPath,
    heldOut: { share: 0 },
    minHeldOut: 10,
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(report.candidateVersion).toBe(next);
  expect(existsSync(join(root, ".retrain.lock"))).toBe(false);
});
