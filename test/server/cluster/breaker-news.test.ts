// A worker's provider pool and its breaker news, with real forward() calls to fake providers on loopback:
// news goes out only for what the pool's own calls did (a failure counted, a count cleared, an opening or
// closing), news coming in does the same to a breaker without going out again, and a failing news channel
// never fails a call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServerConfig, resolveProviders } from "../../../src/server/config.js";
import { forward } from "../../../src/server/proxy/forward.js";
import { type BreakerNews, ProviderPool, RetryBudget } from "../../../src/server/proxy/providers.js";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";

let dead: FakeOpenAI;
let alive: FakeOpenAI;

beforeAll(async () => {
  dead = await startFakeOpenAI({ handler: () => ({ type: "error", status: 500 }) });
  alive = await startFakeOpenAI();
});
afterAll(async () => {
  await Promise.all([dead?.close(), alive?.close()]);
});

function pool(news?: BreakerNews): ProviderPool {
  const breaker = { failureThreshold: 2, cooldownMs: 600_000 };
  const config = parseServerConfig({
    providers: [
      { name: "dead", baseURL: dead.baseURL, apiKey: "sk-fake", breaker },
      { name: "alive", baseURL: alive.baseURL, apiKey: "sk-fake", breaker },
    ],
  });
  return new ProviderPool(resolveProviders(config, {}), new RetryBudget(1, 100), news);
}

const ask = (p: ProviderPool) => forward(p, ["dead", "alive"], { model: "m", messages: [{ role: "user", content: "hi" }] }, { stream: false, maxAttempts: 3 });

describe("ProviderPool breaker news", () => {
  it("tells only of its own breakers opening and closing; applied news is not told again", async () => {
    const told: string[] = [];
    const p = pool((provider, state) => told.push(`${provider} ${state}`));
    for (let i = 0; i < 4; i++) expect((await ask(p)).kind).toBe("json");
    // The answering provider's breaker never counted a failure: nothing about it.
    expect(told).toEqual(["dead failed", "dead failed", "dead open"]);
    expect(dead.chatRequests()).toHaveLength(2);

    p.apply("alive", "open");
    expect(p.states()).toEqual({ dead: "open", alive: "open" });
    expect((await ask(p)).kind).toBe("error"); // both open: nothing is sent
    p.apply("dead", "closed");
    p.apply("alive", "closed");
    p.apply("unknown", "open"); // a provider this worker does not have
    expect(p.states()).toEqual({ dead: "closed", alive: "closed" });
    expect(told).toEqual(["dead failed", "dead failed", "dead open"]);
  });

  it("others' failures count toward opening; their recovery clears the count; neither is told again", async () => {
    const told: string[] = [];
    const p = pool((provider, state) => told.push(`${provider} ${state}`));
    p.apply("dead", "failed");
    p.apply("dead", "recovered");
    p.apply("dead", "failed"); // one failure in a row elsewhere
    const before = dead.chatRequests().length;
    expect((await ask(p)).kind).toBe("json"); // ours is the second: threshold 2, open
    expect(dead.chatRequests().length - before).toBe(1);
    expect(p.states()).toEqual({ dead: "open", alive: "closed" });
    expect(told).toEqual(["dead failed", "dead open"]);
    p.apply("alive", "failed");
    p.apply("alive", "failed"); // the threshold, counted elsewhere: opens here without a word
    expect(p.states()).toEqual({ dead: "open", alive: "open" });
    expect(told).toEqual(["dead failed", "dead open"]);
  });

  it("a news channel that throws changes nothing for the calls", async () => {
    const p = pool(() => {
      throw new Error("the IPC channel is closed");
    });
    const before = dead.chatRequests().length;
    for (let i = 0; i < 3; i++) expect((await ask(p)).kind).toBe("json");
    expect(dead.chatRequests().length - before).toBe(2);
    expect(p.states()).toEqual({ dead: "open", alive: "closed" });
  });
});
