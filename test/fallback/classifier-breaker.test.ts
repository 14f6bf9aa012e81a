// LlmClassifier's circuit breaker news, with real classify() calls to a fake endpoint on loopback: it tells
// what its own calls did (a failure counted, a count cleared, an opening or closing) and nothing for a healthy
// endpoint; news from another process (applyBreakerChange) does the same to its breaker without being told
// again; a listener that throws never fails a call.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BreakerChange } from "../../src/common/breaker.js";
import { LlmClassifier } from "../../src/fallback/index.js";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai.js";

const labels = [{ name: "cheap" }, { name: "strong" }];
const ok = { type: "content", content: '{"label":"cheap"}' } as const;
const down = { type: "error", status: 500, message: "classifier is down" } as const;

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.setHandler(() => ok);
});

function classifier(told: BreakerChange[], cooldownMs = 600_000): LlmClassifier {
  const config = { baseURL: fake.baseURL, model: "tiny-router", timeoutMs: 2000, maxRetries: 0, breaker: { failureThreshold: 2, cooldownMs } };
  return new LlmClassifier(config, { onBreakerChange: (change) => told.push(change) });
}

const ask = (c: LlmClassifier, text = "is this hard?") => c.classify({ text, labels });

describe("LlmClassifier breaker news", () => {
  it("tells what its own calls did to its breaker, and nothing while the endpoint is healthy", async () => {
    const told: BreakerChange[] = [];
    const c = classifier(told, 100);
    for (let i = 0; i < 3; i++) expect((await ask(c)).label).toBe("cheap");
    expect(told).toEqual([]);

    fake.setHandler(() => down);
    expect((await ask(c)).failure).toBe("server_error");
    fake.setHandler(() => ok);
    expect((await ask(c)).label).toBe("cheap");
    expect(told).toEqual(["failed", "recovered"]);

    fake.setHandler(() => down);
    await ask(c);
    await ask(c);
    expect((await ask(c)).failure).toBe("circuit_open");
    expect(told).toEqual(["failed", "recovered", "failed", "failed", "open"]);

    await new Promise((r) => setTimeout(r, 150)); // the cooldown: one trial call goes out
    fake.setHandler(() => ok);
    expect((await ask(c)).label).toBe("cheap");
    expect(told.at(-1)).toBe("closed");
    expect(c.stats().breaker).toBe("closed");
  });

  it("follows another process's news without telling it again", async () => {
    const told: BreakerChange[] = [];
    const c = classifier(told);
    c.applyBreakerChange("open");
    expect(c.stats().breaker).toBe("open");
    expect((await ask(c)).failure).toBe("circuit_open");
    expect(fake.chatRequests()).toHaveLength(0);
    c.applyBreakerChange("closed");
    expect((await ask(c)).label).toBe("cheap");

    // Failures elsewhere count toward opening here; a success elsewhere clears the count.
    c.applyBreakerChange("failed");
    c.applyBreakerChange("recovered");
    c.applyBreakerChange("failed");
    fake.setHandler(() => down);
    expect((await ask(c)).failure).toBe("server_error"); // the second in a row: threshold 2, opens
    expect(c.stats().breaker).toBe("open");
    expect(fake.chatRequests()).toHaveLength(2);
    expect(told).toEqual(["failed", "open"]);

    c.applyBreakerChange("closed");
    c.applyBreakerChange("failed");
    c.applyBreakerChange("failed"); // the threshold, counted elsewhere: opens here without a word
    expect(c.stats().breaker).toBe("open");
    expect(told).toEqual(["failed", "open"]);
  });

  it("a listener set later replaces the first, none stops the news, and one that throws fails no call", async () => {
    const first: BreakerChange[] = [];
    const c = classifier(first);
    fake.setHandler(() => down);
    await ask(c);
    const later: BreakerChange[] = [];
    c.onBreakerChange((change) => later.push(change));
    fake.setHandler(() => ok);
    await ask(c);
    c.onBreakerChange(undefined);
    fake.setHandler(() => down);
    await ask(c);
    expect([first, later]).toEqual([["failed"], ["recovered"]]);

    c.onBreakerChange(() => {
      throw new Error("the IPC channel is closed");
    });
    expect((await ask(c)).failure).toBe("server_error"); // the second failure in a row: opens, told to a listener that throws
    expect(c.stats().breaker).toBe("open");
    c.applyBreakerChange("closed");
    fake.setHandler(() => ok);
    expect(await ask(c)).toMatchObject({ label: "cheap" });
  });
});
