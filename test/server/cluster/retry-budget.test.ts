// `triage serve --workers 2` with two fake providers that answer every call with a retryable 500, and a
// retry budget that earns nothing (budgetRatio 0): each request's first call is free and its failover to the
// second provider takes a token, so the server as a whole makes budgetBurst failovers, not one burst per
// worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { requestWorker } from "../../helpers/worker-request.js";
import { type BreakerCluster, providerDown, startBreakerCluster } from "./breaker-cluster.js";

const BURST = 4;
/** Never reached: the breakers stay closed, so every request calls the first provider. */
const THRESHOLD = 1000;
/** Bounds the loop that waits for both workers to have answered BURST requests. */
const MAX_REQUESTS = 40;

let first: FakeOpenAI;
let second: FakeOpenAI;
let cluster: BreakerCluster | undefined;

beforeAll(async () => {
  first = await startFakeOpenAI({ handler: providerDown });
  second = await startFakeOpenAI({ handler: providerDown });
  cluster = await startBreakerCluster(
    THRESHOLD,
    [
      { name: "first", fake: first, cooldownMs: 600_000 },
      { name: "second", fake: second, cooldownMs: 600_000 },
    ],
    { retry: { maxAttempts: 2, budgetRatio: 0, budgetBurst: BURST } },
  );
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([first, second].map((f) => f?.close()));
});

describe("serve --workers 2: the retry budget", () => {
  it("bursts budgetBurst failovers for the whole server, not budgetBurst per worker", async () => {
    const perWorker = new Map<string, number>();
    let requests = 0;
    // Fresh connections, so the workers take turns; until each has answered BURST requests (enough to
    // spend a whole burst of its own, as each did before the burst was split).
    while (requests < MAX_REQUESTS && !(perWorker.size === 2 && [...perWorker.values()].every((n) => n >= BURST))) {
      const body = { model: "auto", messages: [{ role: "user", content: `question ${requests}: what is the capital of France?` }] };
      const r = await requestWorker({ port: cluster!.port, method: "POST", path: "/v1/chat/completions", body });
      expect(r.status, r.body).toBe(502);
      requests++;
      if (r.worker) perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
    }
    expect([...perWorker.keys()].sort()).toEqual(["1", "2"]);
    expect(Math.min(...perWorker.values())).toBeGreaterThanOrEqual(BURST);
    // Every request called `first` once; only BURST of them (ceil(BURST / 2) at each worker) failed over.
    expect(first.chatRequests()).toHaveLength(requests);
    expect(second.chatRequests()).toHaveLength(BURST);
    expect(first.chatRequests().length + second.chatRequests().length).toBe(requests + BURST);
  });
});
