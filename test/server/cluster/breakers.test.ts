// `triage serve --workers 2` with providers [dead, flaky, alive] (fake providers on loopback, the first two
// answering 500): once one worker's breaker for a provider opens, the other worker's opens too, so the
// provider gets `failureThreshold` failed calls from the whole server, not from each worker; and once one
// worker's trial call finds a provider back, the other worker's breaker closes without a trial of its own.
import { Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { type BreakerCluster, providerDown, startBreakerCluster } from "./breaker-cluster.js";

const THRESHOLD = 3;
/** Long enough that `dead` stays open for the whole test. */
const LONG_COOLDOWN_MS = 600_000;
/** Short enough that the test can wait for `flaky`'s trial call. */
const SHORT_COOLDOWN_MS = 1_500;

let dead: FakeOpenAI;
let flaky: FakeOpenAI;
let alive: FakeOpenAI;
let cluster: BreakerCluster | undefined;

beforeAll(async () => {
  dead = await startFakeOpenAI({ handler: providerDown });
  flaky = await startFakeOpenAI({ handler: providerDown });
  alive = await startFakeOpenAI();
  cluster = await startBreakerCluster(THRESHOLD, [
    { name: "dead", fake: dead, cooldownMs: LONG_COOLDOWN_MS },
    { name: "flaky", fake: flaky, cooldownMs: SHORT_COOLDOWN_MS },
    { name: "alive", fake: alive, cooldownMs: LONG_COOLDOWN_MS },
  ]);
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([dead, flaky, alive].map((f) => f?.close()));
});

describe("serve --workers 2: circuit breakers shared by the workers", () => {
  it("a provider that fails threshold times at one worker is no longer called by either worker", async () => {
    // One kept-alive connection: every call goes to the same worker, which alone finds `dead` failing.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await cluster!.chat(agent);
    while (dead.chatRequests().length < THRESHOLD) expect((await cluster!.chat(agent)).worker).toBe(first.worker);
    agent.destroy();
    await cluster!.bothWorkersSay("dead", "down");

    // Fresh connections, so both workers answer: neither calls `dead` again during its cooldown.
    const workers = new Set<string | undefined>();
    for (let i = 0; i < 4 * THRESHOLD; i++) workers.add((await cluster!.chat()).worker);
    expect(workers).toEqual(new Set(["1", "2"]));
    // Each request went to `dead` once until the first worker's breaker opened; none reached it afterwards
    // (one at a time, so no call of the other worker was out while the news travelled).
    expect(dead.chatRequests()).toHaveLength(THRESHOLD);
    expect(alive.chatRequests().length).toBeGreaterThanOrEqual(5 * THRESHOLD);
  });

  it("a provider back at one worker's trial call is closed at the other worker too", async () => {
    // The requests above opened `flaky` at both workers as they did `dead` (its short cooldown may have passed since).
    await cluster!.bothWorkersSay("flaky", "down", "recovering");
    flaky.setHandler(() => ({ type: "content", content: "back" }));
    const before = flaky.chatRequests().length;
    // Once a cooldown has passed, one worker's trial call reaches `flaky` and succeeds.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await vi.waitFor(
      async () => {
        await cluster!.chat(agent);
        expect(flaky.chatRequests().length).toBeGreaterThan(before);
      },
      { timeout: 30_000, interval: 100 },
    );
    agent.destroy();
    // The other worker got only /healthz since: without the news it would say "recovering" until a trial of its own.
    await cluster!.bothWorkersSay("flaky", "healthy");
    expect(flaky.chatRequests().length).toBe(before + 1);
  });
});
