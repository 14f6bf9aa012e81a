// `triage serve --workers 2` with the `fallback` policy and its LLM classifier on a fake endpoint (loopback)
// that answers 500: the classifier's circuit breaker is shared like the providers' ones. Requests on fresh
// connections go to the two workers in turn, and every one falls back (texts like no training example).
// The dead endpoint gets `failureThreshold` classifier calls from the whole server, not that many from each
// worker; after the cooldown one trial call decides for every worker: a failed one re-opens every worker's
// breaker, a good one closes every worker's, whose count of failures in a row then starts from 0. /healthz
// says so on every worker.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeOpenAI, type FakeReply, startFakeOpenAI } from "../../helpers/fake-openai.js";
import { requestWorker } from "../../helpers/worker-request.js";
import { type BreakerCluster, startBreakerCluster } from "./breaker-cluster.js";

const THRESHOLD = 3;
/** Far longer than the few requests each step sends while the breaker is open; the test waits it out twice. */
const COOLDOWN_MS = 4_000;

const dead: FakeReply = { type: "error", status: 500, message: "classifier is down" };
const label: FakeReply = { type: "content", content: '{"label":"MEDIUM"}' };

let classifier: FakeOpenAI;
let provider: FakeOpenAI;
let cluster: BreakerCluster | undefined;

beforeAll(async () => {
  classifier = await startFakeOpenAI({ handler: () => dead });
  provider = await startFakeOpenAI();
  cluster = await startBreakerCluster(THRESHOLD, [{ name: "only", fake: provider, cooldownMs: COOLDOWN_MS }], {
    fallback: {
      TRIAGE_FALLBACK_BASE_URL: classifier.baseURL,
      TRIAGE_FALLBACK_API_KEY: "sk-fake",
      TRIAGE_FALLBACK_MODEL: "tiny-classifier",
      TRIAGE_FALLBACK_BREAKER_THRESHOLD: String(THRESHOLD),
      TRIAGE_FALLBACK_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
    },
  });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await Promise.all([classifier, provider].map((f) => f?.close()));
});

let asked = 0;
/** One /v1/route request that falls back: which worker answered, how the decision was made and the classifier's error. */
async function route(): Promise<{ worker: string | undefined; decidedBy: string; error?: string }> {
  const text = `zqx ${asked++} vlorp grebnitz quandle ${asked * 7919} frobozz`;
  const r = await requestWorker({ port: cluster!.port, method: "POST", path: "/v1/route", body: { text } });
  expect(r.status, r.body).toBe(200);
  const decision = JSON.parse(r.body) as { decidedBy: string; fallback?: { error?: string } };
  return { worker: r.worker, decidedBy: decision.decidedBy, error: decision.fallback?.error };
}

/** Four routed queries, which must reach both workers, each checked by `check`. */
async function onBothWorkers(check: (r: Awaited<ReturnType<typeof route>>) => void): Promise<void> {
  const seen = new Set<string | undefined>();
  for (let i = 0; i < 4; i++) {
    const r = await route();
    seen.add(r.worker);
    check(r);
  }
  expect(seen).toEqual(new Set(["1", "2"]));
}

/** Classifier calls (retries excluded: each call retries a 500 once within its timeout). */
const calls = () => classifier.chatRequests().length / 2;

describe("serve --workers 2: the fallback classifier's breaker is shared", () => {
  it("a dead classifier gets threshold calls from the whole server; one trial decides for every worker", async () => {
    // One request at a time, each awaited: a worker tells the primary of its classifier's failure before it
    // answers, so every worker has counted every earlier call before it makes its own (see breaker-counts).
    const workers = new Set<string | undefined>();
    const answers: string[] = [];
    for (let i = 0; i < 4 * THRESHOLD; i++) {
      const r = await route();
      workers.add(r.worker);
      answers.push(r.error ?? r.decidedBy);
    }
    expect(workers).toEqual(new Set(["1", "2"]));
    // Per-worker breakers would let each worker make its own threshold calls.
    expect(calls()).toBe(THRESHOLD);
    expect(answers.slice(THRESHOLD)).toEqual(Array(3 * THRESHOLD).fill("circuit open"));
    await cluster!.bothWorkersSayOfFallback("down");

    // After the cooldown a trial call fails: every worker's breaker re-opens, none makes a trial of its own.
    await vi.waitFor(
      async () => {
        await route();
        expect(calls()).toBe(THRESHOLD + 1);
      },
      { timeout: 20_000, interval: 200 },
    );
    await onBothWorkers((r) => expect(r.error).toBe("circuit open"));
    expect(calls()).toBe(THRESHOLD + 1);

    // The next trial succeeds: every worker's breaker closes, and both ask the classifier again.
    classifier.setHandler(() => label);
    await vi.waitFor(async () => expect((await route()).decidedBy).toBe("fallback"), { timeout: 20_000, interval: 200 });
    await onBothWorkers((r) => expect(r.decidedBy).toBe("fallback"));
    await cluster!.bothWorkersSayOfFallback("healthy");
    const afterRecovery = classifier.chatRequests().length;

    // Down again: failures in a row count from 0 on every worker, and the threshold opens them all.
    classifier.setHandler(() => dead);
    for (let i = 0; i < 2 * THRESHOLD; i++) await route();
    expect((classifier.chatRequests().length - afterRecovery) / 2).toBe(THRESHOLD);
  }, 120_000);
});
