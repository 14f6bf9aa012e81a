// Retention while the log is written: once at start, in steps for a big surplus, then on a timer.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { DecisionLog, decisionLogConfigSchema, startRetention } from "../../src/store/index.js";
import { makeDecision } from "./make-decision.js";
import { tempDir } from "../helpers/temp.js";

let dir: string;
beforeEach(() => {
  dir = tempDir("triage-retention-");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("trims a big surplus in steps without blocking, then keeps the cap as rows arrive", async () => {
  const log = DecisionLog.open(join(dir, "d.db"), { batchSize: 100_000, maxPending: 100_000 });
  for (let i = 0; i < 5000; i++) log.log(makeDecision({ requestId: `r${i}` }), `q${i}`);
  log.flush();
  const { retention } = decisionLogConfigSchema.parse({ retention: { maxRows: 10, every: "50ms" } });
  const errors: Error[] = [];
  const timer = startRetention(log, retention, (e) => errors.push(e))!;
  // The first step ran at once, and it did not do all of the work in one go.
  const afterFirstStep = log.count();
  expect(afterFirstStep).toBeLessThan(5000);
  expect(afterFirstStep).toBeGreaterThan(10);
  await vi.waitFor(() => expect(log.count()).toBe(10), { timeout: 10_000, interval: 20 });
  for (let i = 0; i < 5; i++) log.log(makeDecision({ requestId: `n${i}` }), "new");
  log.flush();
  await vi.waitFor(() => expect(log.query().map((r) => r.requestId)).toEqual([...["r4995", "r4996", "r4997", "r4998", "r4999"], ...["n0", "n1", "n2", "n3", "n4"]]), {
    timeout: 10_000,
    interval: 20,
  });
  expect(timer.deleted).toBe(4995);
  timer.stop();
  log.close();
  expect(errors).toEqual([]);
});

it("sets no timer when the section has no rule", () => {
  const log = DecisionLog.open(join(dir, "e.db"));
  expect(startRetention(log, undefined, () => {})).toBeUndefined();
  expect(startRetention(log, decisionLogConfigSchema.parse({ retention: {} }).retention, () => {})).toBeUndefined();
  log.close();
});
