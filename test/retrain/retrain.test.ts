import { beforeAll, expect, it } from "vitest";
import { retrain } from "../../src/retrain/retrain.js";
import { ModelRegistry } from "../../src/model/registry.js";
import { Router } from "../../src/router/router.js";
import { tierExamples, trainTiers } from "../helpers/tiers.js";
import { cachedUse, humanLog, registryWith } from "./helpers.js";

const evalSet = tierExamples("test", 12);
const train5 = tierExamples("train", 5);
const train40 = tierExamples("train", 40);

let root: string;
beforeAll(async () => {
  root = await registryWith(train5);
});

it("promotes a candidate that learned from the log when it is better on the held-out data", async () => {
  const extra = train40.filter((e) => !train5.some((b) => b.text === e.text));
  const report = await retrain({
    registry: root,
    baseData: train5,
    logDb: humanLog(extra),
    evalData: evalSet,
    heldOut: { share: 0 },
    minHeldOut: evalSet.length,
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(report.promoted).toBe(true);
  expect(report.candidate!.accuracy).toBeGreaterThanOrEqual(report.current!.accuracy);
  expect(report.reason).toMatch(/^promoted v0002: accuracy/);
  expect(report.served).toBe("v0002");
  expect(report.provenance.sources.human.used).toBe(extra.length);
  expect(report.training).toEqual({ examples: train5.length + extra.length, base: train5.length, fromLog: extra.length });
  expect(new ModelRegistry(root).pointer()).toMatchObject({ version: "v0002", previous: "v0001" });
  const router = await Router.load(root, { encoder: await cachedUse() });
  expect(router.version).toBe(report.candidate!.version);
  expect(JSON.parse(JSON.stringify(report))).toEqual(report); // JSON-able
});

it("refuses a worse candidate (people labelled everything wrong) and keeps serving the current version", async () => {
  const before = new ModelRegistry(root).pointer();
  const labels = ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"];
  const wrong = train40.map((e) => ({ text: e.text, label: labels[(labels.indexOf(e.label) + 2) % 4] }));
  const report = await retrain({
    registry: root,
    baseData: train5,
    logDb: humanLog(wrong),
    evalData: evalSet,
    heldOut: { share: 0 },
    minHeldOut: evalSet.length,
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(report.promoted).toBe(false);
  expect(report.candidate!.accuracy).toBeLessThan(report.current!.accuracy);
  expect(report.reason).toMatch(/^kept v0002: candidate is worse by the metric/);
  expect(report.provenance.sources.base.overridden).toBe(train5.length); // the human labels won over the base data
  expect(new ModelRegistry(root).pointer()).toEqual(before);
  expect(new ModelRegistry(root).versionNames()).toContain(report.candidateVersion); // kept for inspection
  // The same data again: that candidate is measured again, not trained a second time.
  const versions = new ModelRegistry(root).versionNames();
  const again = await retrain({
    registry: root,
    baseData: train5,
    logDb: humanLog(wrong),
    evalData: evalSet,
    heldOut: { share: 0 },
    minHeldOut: evalSet.length,
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(again).toMatchObject({ promoted: false, trained: false, reused: true, candidateVersion: report.candidateVersion, candidate: report.candidate });
  expect(again.reason).toMatch(
    new RegExp(`^kept v0002: candidate is worse by the metric .*\\(candidate ${report.candidateVersion} reused: trained on the same data by an earlier run\\)$`),
  );
  expect(new ModelRegistry(root).versionNames()).toEqual(versions);
});

it("trains nothing, and promotes nothing, when too little is held out to compare on", async () => {
  const before = new ModelRegistry(root).versionNames();
  const few = evalSet.slice(0, 10);
  const report = await retrain({ registry: root, baseData: train40, logDb: humanLog([]), evalData: few, encoder: await cachedUse(), folds: 3 });
  expect(report).toMatchObject({ promoted: false, trained: false, candidateVersion: null, candidate: null, current: null, heldOut: { eval: 10, human: 0, min: 50 } });
  expect(report.reason).toMatch(/^kept v0002: 10 held-out example\(s\) .* too few to compare on; a comparison needs at least 50/);
  expect(new ModelRegistry(root).versionNames()).toEqual(before);
  // The same run with the minimum lowered to what there is trains and compares.
  const lowered = await retrain({ registry: root, baseData: train40, logDb: humanLog([]), evalData: few, minHeldOut: 10, encoder: await cachedUse(), folds: 3 });
  expect(lowered.trained).toBe(true);
  expect(lowered.current!.n).toBe(10);
});

it("adopts a plain artifact as v0001, and retrains nothing while the training data is unchanged", async () => {
  const plain = await trainTiers(5, { encoder: await cachedUse() }); // a plain artifact, as `triage train --out` writes
  const same = await retrain({ registry: plain.dir, baseData: train5, logDb: humanLog([]), evalData: evalSet, encoder: await cachedUse(), folds: 3 });
  expect(same).toMatchObject({ adopted: "v0001", promoted: false, trained: false, served: "v0001", candidateVersion: null });
  expect(same.reason).toMatch(/^kept v0001: the training data is unchanged since it was trained \(20 examples, sha256 [0-9a-f]{12}\)/);
  const registry = new ModelRegistry(plain.dir);
  expect(registry.versionNames()).toEqual(["v0001"]);
  expect((await Router.load(plain.dir, { encoder: await cachedUse() })).version).toBe(plain.manifest.version);

  const extra = train40.filter((e) => !train5.some((b) => b.text === e.text)).slice(0, 20);
  const learned = await retrain({
    registry: plain.dir,
    baseData: train5,
    logDb: humanLog(extra),
    evalData: evalSet,
    heldOut: { share: 0 },
    minHeldOut: evalSet.length,
    minDelta: -1,
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(learned).toMatchObject({ trained: true, promoted: true, candidateVersion: "v0002", served: "v0002" });
  expect(learned).not.toHaveProperty("adopted");
  expect(learned.current!.registryVersion).toBe("v0001");
  // Promoted: its data is now the current version's, so the next run has nothing new to learn.
  const again = await retrain({
    registry: plain.dir,
    baseData: train5,
    logDb: humanLog(extra),
    evalData: evalSet,
    heldOut: { share: 0 },
    minHeldOut: evalSet.length,
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(again).toMatchObject({ trained: false, promoted: false, served: "v0002" });
  expect(again.reason).toMatch(/^kept v0002: the training data is unchanged/);
});

it("keeps the current version when the candidate stops flagging out-of-scope queries, whatever its accuracy", async () => {
  const root2 = await registryWith(train40);
  // Strings no tier resembles: the current model flags them as novel. People then "labelled" them SIMPLE,
  // so the candidate learns them as in-scope and stops flagging them (in-scope accuracy is unaffected).
  const junk = [
    "zxqv plokk mmrtu",
    "vvbnq trrk zzlop",
    "qqpx mwwl kjhtr",
    "blorf snizzle quank",
    "xkcd grom vlep",
    "ptarq zmee wubl",
    "fnord klax opnu",
    "jjzk rrvq plim",
    "wuzz gerp tlonk",
    "mrrp zanq hoxl",
  ];
  const evalWithJunk = [...evalSet, ...junk.map((text) => ({ text, label: "OUT_OF_SCOPE" }))];
  const report = await retrain({
    registry: root2,
    baseData: train40,
    logDb: humanLog(junk.map((text) => ({ text, label: "SIMPLE" }))),
    evalData: evalWithJunk,
    heldOut: { share: 0 },
    minDelta: -1, // accuracy alone would promote it
    encoder: await cachedUse(),
    folds: 3,
  });
  expect(report.current!.outOfScope).toMatchObject({ n: junk.length });
  expect(report.current!.outOfScope!.recall).toBeGreaterThanOrEqual(0.3);
  expect(report.candidate!.outOfScope!.recall).toBeLessThan(report.current!.outOfScope!.recall - 0.02);
  expect(report.promoted).toBe(false);
  expect(report.reason).toMatch(/^kept v0001: candidate catches fewer out-of-scope queries/);
  expect(new ModelRegistry(root2).current()).toBe("v0001");
});
