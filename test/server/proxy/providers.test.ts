// The retry budget's burst, split among a server's workers: rounded up, so every worker keeps a retry.
import { describe, expect, it } from "vitest";
import { burstPerWorker, RetryBudget } from "../../../src/server/proxy/providers.js";

/** How many retries a fresh budget allows before it runs out (bounded). */
function spendable(budget: RetryBudget): number {
  let n = 0;
  while (n < 1000 && budget.tryWithdraw()) n++;
  return n;
}

describe("burstPerWorker", () => {
  it("splits the burst among the workers, rounding up", () => {
    expect(burstPerWorker(20, 1)).toBe(20);
    expect(burstPerWorker(20, 2)).toBe(10);
    expect(burstPerWorker(20, 3)).toBe(7);
    expect(burstPerWorker(1, 4)).toBe(1);
    expect(burstPerWorker(0, 4)).toBe(0);
  });

  it("gives a budget that starts with and holds at most that share", () => {
    const budget = new RetryBudget(1, burstPerWorker(5, 2));
    expect(spendable(budget)).toBe(3);
    for (let i = 0; i < 10; i++) budget.onRequest();
    expect(spendable(budget)).toBe(3);
  });
});
