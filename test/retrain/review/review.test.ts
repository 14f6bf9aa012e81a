import { join } from "node:path";
import { expect, it } from "vitest";
import { buildReviewQueue } from "../../../src/retrain/review/queue.js";
import { ReviewSession } from "../../../src/retrain/review/session.js";
import { DecisionLog } from "../../../src/store/index.js";
import type { Decision } from "../../../src/router/types.js";
import { tempDir } from "../../helpers/tiers.js";
import { makeDecision } from "../../store/make-decision.js";
import { cachedUse } from "../helpers.js";

const perLabel = { SIMPLE: 100, MEDIUM: 100, COMPLEX: 100, FRONTIER: 10 };

function logWith(entries: [string, Partial<Decision>][]): { log: DecisionLog; path: string } {
  const path = join(tempDir(), "d.db");
  const log = DecisionLog.open(path);
  entries.forEach(([text, d], i) => log.log(makeDecision({ requestId: `r${i}`, label: "SIMPLE", modelLabel: "SIMPLE", ...d }), text));
  log.flush();
  return { log, path };
}

it("ranks by what a label would teach and collapses near-duplicates by embedding similarity", async () => {
  const { log } = logWith([
    ["What is the capital of France?", { margin: 0.9 }], // confident, common label: last
    ["Write a haiku about autumn leaves", { margin: 0.05, lowConfidence: true }], // low margin
    ["Write a haiku about autumn leaves!", { margin: 0.06, lowConfidence: true }], // near-duplicate of the one above
    ["Prove that there are infinitely many primes", { margin: 0.3, modelLabel: "FRONTIER", label: "FRONTIER" }], // rare label
    ["Summarise this article in three bullet points", { margin: 0.04, lowConfidence: true, decidedBy: "fallback", fallback: { label: "MEDIUM", latencyMs: 3 } }], // fallback disagrees
    ["Already labelled by someone", { margin: 0.01, lowConfidence: true }],
  ]);
  log.feedback("r5", { kind: "label", humanLabel: "SIMPLE" });
  const items = await buildReviewQueue(log, { encoder: await cachedUse(), perLabel });
  expect(items.map((i) => i.requestId)).toEqual(["r4", "r3", "r1", "r0"]);
  expect(items[0].reasons.join("; ")).toMatch(/fallback said MEDIUM, model SIMPLE/);
  expect(items[1].reasons.join("; ")).toMatch(/rare label FRONTIER/);
  expect(items[2].duplicates).toEqual(["r2"]);
  expect((await buildReviewQueue(log, { encoder: await cachedUse(), perLabel, limit: 2 })).map((i) => i.requestId)).toEqual(["r4", "r3"]);
  log.close();
});

it("labels with one key each, skips, undoes (deleting the stored label) and quits", async () => {
  const { log } = logWith([
    ["Book a table for two tonight", {}],
    ["Explain quantum entanglement to a child", {}],
    ["Debug this segfault in my C code", {}],
  ]);
  const items = await buildReviewQueue(log, { encoder: await cachedUse(), perLabel });
  const session = new ReviewSession(items, ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"], {
    write: (id, label) => log.feedback(id, { kind: "label", humanLabel: label }),
    remove: (id) => log.deleteFeedback(id),
  });
  expect([...session.keys]).toEqual([
    ["1", "SIMPLE"],
    ["2", "MEDIUM"],
    ["3", "COMPLEX"],
    ["4", "FRONTIER"],
    ["o", "out-of-scope"],
  ]);
  const first = session.current!.requestId;
  expect(session.press("2")).toMatchObject({ type: "labelled", label: "MEDIUM" });
  expect(session.press("s").type).toBe("skipped");
  expect(session.press("x")).toEqual({ type: "unknown-key", key: "x" });
  expect(session.press("u")).toMatchObject({ type: "undone", label: null }); // the skip
  expect(session.press("u")).toMatchObject({ type: "undone", label: "MEDIUM" });
  expect(session.current!.requestId).toBe(first);
  expect(log.query({ feedbackKind: "label" })).toEqual([]); // the undone label is gone from the log
  expect(session.press("4").type).toBe("labelled");
  expect(session.press("1").type).toBe("labelled");
  expect(session.press("3").type).toBe("labelled");
  expect(session.press("1")).toEqual({ type: "done" });
  expect(session.press("q")).toEqual({ type: "quit" });
  expect(session.press("u")).toMatchObject({ type: "undone", label: "COMPLEX" });
  const labels = log.query({ feedbackKind: "label" }).map((r) => r.feedback.map((f) => f.humanLabel));
  expect(labels).toHaveLength(2);
  expect(session.labelled).toBe(2);
  expect(session.press("u").type).toBe("undone");
  expect(session.press("u").type).toBe("undone");
  expect(session.press("u")).toEqual({ type: "nothing-to-undo" });
  expect(log.count({ feedbackKind: "label" })).toBe(0);
  log.close();
});

it("o marks a query out of scope (none of the labels fits); the item shows where it was routed", async () => {
  const { log } = logWith([["Order me a pizza with extra cheese", { label: "MEDIUM", modelLabel: "SIMPLE", decidedBy: "escalate", lowConfidence: true, margin: 0.3 }]]);
  const items = await buildReviewQueue(log, { encoder: await cachedUse(), perLabel });
  expect(items[0]).toMatchObject({ label: "MEDIUM", modelLabel: "SIMPLE", decidedBy: "escalate", lowConfidence: true, stage: "full" });
  const session = new ReviewSession(items, ["SIMPLE", "MEDIUM"], {
    write: (id, label) => log.feedback(id, { kind: "label", humanLabel: label }),
    remove: (id) => log.deleteFeedback(id),
  });
  expect(session.press("o")).toMatchObject({ type: "labelled", label: "out-of-scope" });
  expect(log.query({ feedbackKind: "label" })[0].feedback.map((f) => f.humanLabel)).toEqual(["out-of-scope"]);
  // A model that has a label of that name keeps it on its number key; o is then not a label key.
  const own = new ReviewSession(items, ["SIMPLE", "out-of-scope"], { write: () => 0, remove: () => {} });
  expect([...own.keys]).toEqual([
    ["1", "SIMPLE"],
    ["2", "out-of-scope"],
  ]);
  expect(own.press("o")).toEqual({ type: "unknown-key", key: "o" });
  log.close();
});
