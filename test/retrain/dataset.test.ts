import { join } from "node:path";
import { expect, it } from "vitest";
import { buildTrainingSet } from "../../src/retrain/dataset.js";
import type { Decision } from "../../src/router/types.js";
import { DecisionLog } from "../../src/store/index.js";
import { tempDir } from "../helpers/tiers.js";
import { makeDecision } from "../store/make-decision.js";

const LABELS = ["SIMPLE", "MEDIUM", "COMPLEX"];
const scores = { SIMPLE: 0.5, MEDIUM: 0.3, COMPLEX: 0.2 };

function logged(entries: { text: string; d: Partial<Decision>; feedback?: Parameters<DecisionLog["feedback"]>[1][] }[], textMode: "store" | "hash" = "store") {
  const log = DecisionLog.open(join(tempDir(), "d.db"), { textMode });
  entries.forEach((e, i) => log.log(makeDecision({ requestId: `r${i}`, scores, ...e.d }), e.text));
  entries.forEach((e, i) => e.feedback?.forEach((f, k) => log.feedback(`r${i}`, { ts: 1000 + i * 10 + k, ...f })));
  const rows = log.query();
  log.close();
  return rows;
}

const fb = (label: string, model = "SIMPLE"): Partial<Decision> => ({
  label,
  modelLabel: model,
  decidedBy: "fallback",
  lowConfidence: true,
  margin: 0.01,
  fallback: { label, latencyMs: 5 },
});

it("resolves conflicts by trust: human > base > escalation > fallback > high-confidence, and counts provenance", () => {
  const rows = logged([
    { text: "q-human", d: fb("COMPLEX"), feedback: [{ kind: "label", humanLabel: "MEDIUM" }] }, // human beats the fallback answer
    { text: "base-1", d: fb("COMPLEX") }, // base data beats a fallback answer on the same text
    { text: "base-2", d: {}, feedback: [{ kind: "label", humanLabel: "COMPLEX" }] }, // a person overrides base data
    { text: "q-esc", d: { label: "SIMPLE", modelLabel: "SIMPLE" }, feedback: [{ kind: "escalated" }] }, // SIMPLE was not enough -> MEDIUM
    { text: "q-esc", d: fb("COMPLEX", "MEDIUM") }, // same text later answered by the fallback: escalation is more trusted
    { text: "q-top", d: { label: "COMPLEX", modelLabel: "COMPLEX" }, feedback: [{ kind: "escalated" }] }, // nothing above the top tier
    { text: "q-fb", d: fb("MEDIUM") }, // disagrees with the local top-1
    { text: "q-agree", d: fb("SIMPLE") }, // agrees
    { text: "q-conf", d: { label: "SIMPLE", modelLabel: "SIMPLE", margin: 0.9 } }, // confident local decision: only when asked
    { text: "Q-FB ", d: fb("MEDIUM") }, // same query modulo case/space: a duplicate
    { text: "q-down", d: fb("MEDIUM"), feedback: [{ kind: "thumbs", thumbs: -1 }] }, // a thumbs-down voids the fallback answer
    { text: "q-alien", d: {}, feedback: [{ kind: "label", humanLabel: "NOPE" }] },
  ]);
  const base = [
    { text: "base-1", label: "SIMPLE" },
    { text: "base-2", label: "SIMPLE" },
  ];
  const set = buildTrainingSet(base, rows, { labels: LABELS, ordered: true, heldOut: { share: 0 } });
  const got = Object.fromEntries(set.examples.map((e) => [e.text, e.label]));
  expect(got).toEqual({
    "q-human": "MEDIUM",
    "base-1": "SIMPLE",
    "base-2": "COMPLEX",
    "q-esc": "MEDIUM",
    "q-fb": "MEDIUM",
    "q-agree": "SIMPLE",
  });
  const p = set.provenance;
  expect(p.sources.human).toEqual({ offered: 2, used: 2, duplicates: 0, overridden: 0 });
  expect(p.sources.base).toEqual({ offered: 2, used: 1, duplicates: 0, overridden: 1 });
  expect(p.sources.escalated).toEqual({ offered: 1, used: 1, duplicates: 0, overridden: 0 });
  expect(p.sources.fallback).toEqual({ offered: 5, used: 2, duplicates: 1, overridden: 2 });
  expect(p.sources.highConfidence.offered).toBe(0);
  expect(p.fallback).toEqual({ disagree: 4, agree: 1 });
  expect(p.skipped).toMatchObject({ escalatedFromTopTier: 1, thumbsDown: 1, unknownLabel: 1, noText: 0 });

  const noAgree = buildTrainingSet([], rows, { labels: LABELS, ordered: true, fallbackAgreements: false, heldOut: { share: 0 } });
  expect(noAgree.examples.find((e) => e.text === "q-agree")).toBeUndefined();
  const unordered = buildTrainingSet([], rows, { labels: LABELS, ordered: false, heldOut: { share: 0 } });
  expect(unordered.examples.find((e) => e.text === "q-esc")?.label).toBe("COMPLEX"); // no tier above for unordered routes: the fallback's answer
});

it("adds confident local decisions only when asked, highest margin first, capped", () => {
  const rows = logged([0.9, 0.5, 0.99, 0.2].map((margin, i) => ({ text: `conf-${i}`, d: { label: "SIMPLE", modelLabel: "SIMPLE", margin } })));
  expect(buildTrainingSet([], rows, { labels: LABELS, ordered: true }).examples).toEqual([]);
  const set = buildTrainingSet([], rows, { labels: LABELS, ordered: true, includeHighConfidence: { max: 2, minMargin: 0.3 } });
  expect(set.examples.map((e) => e.text)).toEqual(["conf-2", "conf-0"]);
  expect(set.provenance.sources.highConfidence).toMatchObject({ offered: 2, used: 2 });
});

it("holds the newest human labels out of training (and their texts from every source), and skips rows without text", () => {
  const entries = Array.from({ length: 10 }, (_, i) => ({
    text: `h-${i}`,
    d: fb("COMPLEX"),
    feedback: [{ kind: "label" as const, humanLabel: "MEDIUM" }],
  }));
  const rows = logged(entries);
  const set = buildTrainingSet([{ text: "h-9", label: "SIMPLE" }], rows, { labels: LABELS, ordered: true, heldOut: { share: 0.3 } });
  expect(set.heldOut.map((e) => e.text)).toEqual(["h-9", "h-8", "h-7"]); // feedback ts grows with i
  expect(set.examples.map((e) => e.text).sort()).toEqual(["h-0", "h-1", "h-2", "h-3", "h-4", "h-5", "h-6"]);
  expect(set.provenance.skipped.heldOut).toBe(3);

  const hashed = logged(entries.slice(0, 2), "hash");
  const none = buildTrainingSet([], hashed, { labels: LABELS, ordered: true });
  expect(none.examples).toEqual([]);
  expect(none.provenance.skipped.noText).toBe(2);
});

it("holds out every query a person marked out of scope, never trains on it, and ignores the fallback's answer for it", () => {
  const rows = logged([
    { text: "q-oos", d: fb("COMPLEX"), feedback: [{ kind: "label", humanLabel: "out-of-scope" }] },
    { text: "q-base-oos", d: {}, feedback: [{ kind: "label", humanLabel: "out-of-scope" }] },
    {
      text: "q-changed",
      d: {},
      feedback: [
        { kind: "label", humanLabel: "out-of-scope" },
        { kind: "label", humanLabel: "MEDIUM" },
      ],
    }, // the newest label counts
    { text: "q-fb", d: fb("MEDIUM") },
  ]);
  const set = buildTrainingSet([{ text: "q-base-oos", label: "SIMPLE" }], rows, { labels: LABELS, ordered: true, heldOut: { share: 0 } });
  expect(set.heldOut).toEqual([
    { text: "q-oos", label: "out-of-scope" },
    { text: "q-base-oos", label: "out-of-scope" },
  ]);
  expect(Object.fromEntries(set.examples.map((e) => [e.text, e.label]))).toEqual({ "q-changed": "MEDIUM", "q-fb": "MEDIUM" });
  expect(set.provenance.skipped.outOfScope).toBe(2);
  expect(set.provenance.skipped.unknownLabel).toBe(0);
  // A model with a route of that name learns it like any other label.
  const own = buildTrainingSet([], rows, { labels: [...LABELS, "out-of-scope"], ordered: false, heldOut: { share: 0 } });
  expect(own.examples.find((e) => e.text === "q-oos")?.label).toBe("out-of-scope");
  expect(own.heldOut).toEqual([]);
});
