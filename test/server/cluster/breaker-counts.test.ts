// `triage serve --workers 2` with providers [dead, intermittent, alive] (fake providers on loopback) and
// requests on fresh connections, which the primary hands to the two workers in turn: failures in a row
// are counted across the whole server, as in one process. `dead` gets exactly `failureThreshold` calls
// (not one worker's threshold plus the other's), and `intermittent`, which fails every other call (so
// one worker alone sees only its failures), never fails threshold times in a row and never opens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { type BreakerCluster, providerDown, startBreakerCluster } from "./breaker-cluster.js";

const THRESHOLD = 3;
/** Long enough that `dead` stays open for the whole test. */
const COOLDOWN_MS = 600_000;

let dead: FakeOpenAI;
let intermittent: FakeOpenAI;
let alive: FakeOpenAI;
let cluster: BreakerCluster | undefined;

beforeAll(async () => {
  dead = await startFakeOpenAI({ handler: providerDown });
  // Its 1st, 3rd, 5th... call fails.
  intermittent = await startFakeOpenAI({
    handler: (_request, index) => (index % 2 === 0 ? { type: "error", status: 500, message: "provider hiccup" } : { type: "content", content: "ok" }),
  });
  alive = await startFakeOpenAI();
  cluster = await startBreakerCluster(THRESHOLD, [
    { name: "dead", fake: dead, cooldownMs: COOLDOWN_MS },
    { name: "intermittent", fake: intermittent, cooldownMs: COOLDOWN_MS },
    { name: "alive", fake: alive, cooldownMs: COOLDOWN_MS },
  ]);
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([dead, intermittent, alive].map((f) => f?.close()));
});

describe("serve --workers 2: failures in a row are counted across the workers", () => {
  it("a dead provider gets threshold calls from the whole server; an intermittent one never opens", async () => {
    // One request at a time, each awaited: a worker tells the primary of a failure before it fails over
    // to the next provider and answers, and the primary relays it on the same channel over which it hands
    // the next connection to a worker, so every worker has counted every earlier call's outcome before it
    // makes its own call. No call is out while news travels, so the count is exact.
    const workers = new Set<string | undefined>();
    const requests = 4 * THRESHOLD;
    for (let i = 0; i < requests; i++) workers.add((await cluster!.chat()).worker);
    expect(workers).toEqual(new Set(["1", "2"]));
    // Per-worker counting would let each worker make threshold - 1 calls before the first one opens.
    expect(dead.chatRequests()).toHaveLength(THRESHOLD);
    // Every request reached `intermittent` (a failure, then a success at the other worker, which clears
    // both workers' counts): its breaker never opened. Per-worker counting opens it at the worker that
    // gets all its failures.
    expect(intermittent.chatRequests()).toHaveLength(requests);
    await cluster!.bothWorkersSay("dead", "down");
    await cluster!.bothWorkersSay("intermittent", "healthy");
  });
});
