// Feedback as the CLI and POST /v1/feedback take it: request id prefixes, labels the model knows, one kind per call.
import { join } from "node:path";
import { expect, it } from "vitest";
import { recordFeedback } from "../../src/retrain/review/feedback.js";
import { DecisionLog } from "../../src/store/index.js";
import { tempDir } from "../helpers/tiers.js";
import { makeDecision } from "../store/make-decision.js";

const scores = { SIMPLE: 0.7, MEDIUM: 0.2, COMPLEX: 0.1 };

function logWith(ids: string[]): DecisionLog {
  const log = DecisionLog.open(join(tempDir(), "d.db"));
  for (const id of ids) log.log(makeDecision({ requestId: id, label: "SIMPLE", modelLabel: "SIMPLE", scores }), `query ${id}`);
  return log; // still queued: feedback must see them anyway
}

it("takes a full request id or a unique prefix of one, and says which prefixes match none or several", async () => {
  const log = logWith(["3f2a9c1e-aaaa", "3f2b0000-bbbb", "req-1", "req-10"]);
  await expect(recordFeedback(log, { requestId: "3f2a", label: "MEDIUM" })).resolves.toMatchObject({ requestId: "3f2a9c1e-aaaa", kind: "label", humanLabel: "MEDIUM" });
  await expect(recordFeedback(log, { requestId: "3f2", thumbs: "up" })).rejects.toThrow(
    /request id prefix "3f2" matches 2 decisions \(3f2a9c1e-aaaa, 3f2b0000-bbbb\); give more of the id/,
  );
  await expect(recordFeedback(log, { requestId: "9z", thumbs: "up" })).rejects.toThrow(/unknown request id "9z" \(no decision with that id or prefix in .*d\.db\)/);
  // An id that is also the start of a longer one means itself.
  await expect(recordFeedback(log, { requestId: "req-1", thumbs: "down" })).resolves.toMatchObject({ requestId: "req-1", kind: "thumbs", thumbs: -1 });
  expect(log.query({ requestId: "req-10" })[0].feedback).toEqual([]);
  // LIKE wildcards are plain characters in a prefix.
  await expect(recordFeedback(log, { requestId: "%", thumbs: "up" })).rejects.toThrow(/unknown request id "%"/);
  await expect(recordFeedback(log, { requestId: "req_", thumbs: "up" })).rejects.toThrow(/unknown request id "req_"/);
  log.close();
});

it("refuses a label the deciding model does not have, but accepts out-of-scope", async () => {
  const log = logWith(["a1", "a2"]);
  await expect(recordFeedback(log, { requestId: "a1", label: "FRONTIER" })).rejects.toThrow(
    /label "FRONTIER" is not one of the model's labels \(SIMPLE, MEDIUM, COMPLEX\) for request a1; use out-of-scope for a query none of them fits/,
  );
  await expect(recordFeedback(log, { requestId: "a1", label: "out-of-scope" })).resolves.toMatchObject({ kind: "label", humanLabel: "out-of-scope" });
  expect(log.query({ requestId: "a1" })[0].feedback.map((f) => f.humanLabel)).toEqual(["out-of-scope"]);
  log.close();
});

it("wants exactly one of label, thumbs, score or escalated, or outcome fields alone", async () => {
  const log = logWith(["b1"]);
  await expect(recordFeedback(log, { requestId: "b1", label: "SIMPLE", thumbs: "up" })).rejects.toThrow(/one of label, thumbs, score or escalated per call/);
  await expect(recordFeedback(log, { requestId: "b1" })).rejects.toThrow(/nothing to record/);
  await expect(recordFeedback(log, { requestId: "b1", thumbs: "sideways" as "up" })).rejects.toThrow(/thumbs must be up or down, got "sideways"/);
  await expect(recordFeedback(log, { requestId: "b1", escalated: true, finalModel: "gpt-4o", tokensIn: 10, tokensOut: 5, cost: 0.001 })).resolves.toMatchObject({
    kind: "escalated",
    finalModel: "gpt-4o",
    tokensIn: 10,
    tokensOut: 5,
    costUsd: 0.001,
  });
  await expect(recordFeedback(log, { requestId: "b1", finalModel: "gpt-4o" })).resolves.toMatchObject({ kind: "outcome" });
  log.close();
});
