/**
 * An outcome model served end to end: `triage train --outcomes` on a train split, then the real server on
 * 127.0.0.1 in front of one fake provider per model, asked by the real `openai` client. The mix of models
 * follows the x-triage-quality header, and on the test split the served choices give exactly the quality
 * and cost `eval-routing` reports at the same dial.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOutcomes } from "../../src/outcomes/load.js";
import { DecisionLog } from "../../src/store/index.js";
import type { OutcomeSet } from "../../src/outcomes/set.js";
import { splitByPrompt } from "../../src/outcomes/split.js";
import { CLI } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir } from "../helpers/tiers.js";
import { startServer, type Running } from "../server/setup.js";
import OpenAI from "openai";
import type { ClusterLink } from "../../src/server/cluster/worker.js";
import type { ConversationStore } from "../../src/server/proxy/conversations.js";

const run = promisify(execFile);
const MODELS = ["small", "medium", "large"];

let work: string;
let cache: string;
let test: OutcomeSet;
let model: string;
const fakes = new Map<string, FakeOpenAI>();
let served: Running;

async function triage(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: cache } });
  return stdout;
}

function writeJsonl(path: string, set: OutcomeSet): void {
  const rows = set.prompts.map((p) =>
    JSON.stringify({
      id: p.id,
      prompt: p.text,
      scores: Object.fromEntries(set.models.map((m, i) => [m, p.scores[i]])),
      costs: Object.fromEntries(set.models.map((m, i) => [m, p.costs[i]])),
    }),
  );
  writeFileSync(path, rows.join("\n") + "\n");
}

beforeAll(async () => {
  work = tempDir();
  cache = join(work, "cache.sqlite");
  const split = splitByPrompt(loadOutcomes("data/outcomes/example.jsonl"), 0.5, 3);
  test = split.test;
  writeJsonl(join(work, "train.jsonl"), split.train);
  writeJsonl(join(work, "test.jsonl"), split.test);
  model = join(work, "model");
  await triage(["train", "--outcomes", join(work, "train.jsonl"), "--out", model, "--encoder", "use"]);
  for (const m of MODELS) {
    const fake = await startFakeOpenAI();
    fake.setHandler(() => ({ type: "content", content: `an answer from ${m}` }));
    fakes.set(m, fake);
  }
  served = await startServer({
    model,
    config: serveConfig(),
  });
}, 180_000);

afterAll(async () => {
  await served?.close();
  await Promise.all([...fakes.values()].map((f) => f.close()));
});

/** Each model served by its own fake provider. */
function serveConfig() {
  return {
    providers: MODELS.map((m) => ({ name: `p-${m}`, baseURL: fakes.get(m)!.baseURL, apiKey: "k", timeoutMs: 5000 })),
    tiers: Object.fromEntries(MODELS.map((m) => [m, { providers: [`p-${m}`] }])),
    reload: { watch: false, intervalMs: 1000 },
  };
}

/** Sends every test prompt through /v1/chat/completions with these headers; the model that answered each. */
async function answeredBy(headers: Record<string, string>): Promise<string[]> {
  const client = served.client();
  const out: string[] = [];
  for (const p of test.prompts) {
    const { data, response } = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: p.text }] }, { headers }).withResponse();
    expect(response.headers.get("x-triage-model")).toBe(data.model);
    out.push(data.model);
  }
  return out;
}

const mix = (models: string[]) => Object.fromEntries(MODELS.map((m) => [m, models.filter((x) => x === m).length]));

describe("serving an outcome model", () => {
  it("forwards each request to the chosen model's provider, and the quality header changes the mix", async () => {
    const strict = await answeredBy({ "x-triage-quality": "1" });
    const loose = await answeredBy({ "x-triage-quality": "0.3" });
    for (const m of MODELS)
      expect(
        fakes
          .get(m)!
          .chatRequests()
          .every((r) => r.body.model === m),
      ).toBe(true);
    expect(mix(strict)).not.toEqual(mix(loose));
    expect(mix(strict).large).toBeGreaterThan(mix(loose).large);
    const capped = await answeredBy({ "x-triage-max-cost": "0" });
    expect(mix(capped)).toEqual({ small: test.prompts.length, medium: 0, large: 0 });
  });

  it("the config's dial applies to requests that set none and is logged as the default; a request's own dial wins", async () => {
    const capped = await startServer({ model, config: { routing: { maxCost: 0 }, reload: { watch: false, intervalMs: 1000 } } });
    try {
      const route = async (headers: Record<string, string>) => {
        const res = await fetch(`${capped.url}/v1/route`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ text: test.prompts[0].text }),
        });
        expect(res.status, await res.clone().text()).toBe(200);
        return ((await res.json()) as { outcome: { dial: Record<string, unknown> } }).outcome.dial;
      };
      expect(await route({})).toMatchObject({ maxCost: 0, from: "default" });
      expect(await route({ "x-triage-quality": "1" })).toMatchObject({ quality: 1, from: "request" });
    } finally {
      await capped.close();
    }
  });

  it("on the test split, the served choices reach exactly the quality and cost eval-routing reports at the same dial", async () => {
    for (const quality of ["0.95", "0.8"]) {
      const report = JSON.parse(
        await triage(["eval-routing", "--train", join(work, "train.jsonl"), "--test", join(work, "test.jsonl"), "--json", "--quality", quality, "--cache", cache]),
      );
      const atDial = report.router.atDial;
      const models = await answeredBy({ "x-triage-quality": quality });
      const idx = models.map((m) => test.models.indexOf(m));
      const q = idx.reduce((s, m, i) => s + test.prompts[i].scores[m], 0) / idx.length;
      const cost = idx.reduce((s, m, i) => s + test.prompts[i].costs[m], 0);
      expect(mix(models)).toEqual(atDial.calls);
      expect(q).toBeCloseTo(atDial.quality, 12);
      expect(cost).toBeCloseTo(atDial.cost, 12);
    }
  }, 120_000);

  it("a failed quality gate escalates to the model the estimator ranks next", async () => {
    const client = served.client();
    // A prompt sent to a cheaper model than the best predicted one.
    let pick: { text: string; first: string; next: string } | undefined;
    for (const p of test.prompts) {
      const res = await fetch(`${served.url}/v1/route`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-triage-quality": "0.5" },
        body: JSON.stringify({ text: p.text }),
      });
      const d = (await res.json()) as { model: string; outcome: { escalation: string[] } };
      if (d.outcome.escalation.length > 0) {
        pick = { text: p.text, first: d.model, next: d.outcome.escalation[0] };
        break;
      }
    }
    expect(pick).toBeDefined();
    fakes.get(pick!.first)!.setHandler(() => ({ type: "content", content: "I don't know." }));
    try {
      const { data, response } = await client.chat.completions
        .create({ model: "auto", messages: [{ role: "user", content: pick!.text }] }, { headers: { "x-triage-quality": "0.5" } })
        .withResponse();
      expect(data.model).toBe(pick!.next);
      expect(response.headers.get("x-triage-tier")).toBe(pick!.next);
    } finally {
      fakes.get(pick!.first)!.setHandler(() => ({ type: "content", content: `an answer from ${pick!.first}` }));
    }
  });

  it("a bad dial header is the caller's 400, naming the header", async () => {
    const res = await fetch(`${served.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-triage-quality": "lots" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/x-triage-quality: expected a quality floor/);
  });
});

/** A test prompt the served model routes to the cheapest model and one it routes to the dearest, at the default dial. */
async function cheapAndDear(url: string): Promise<{ cheap: string; dear: string }> {
  const routed = new Map<string, string>();
  for (const p of test.prompts) {
    const res = await fetch(`${url}/v1/route`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: p.text }) });
    const d = (await res.json()) as { model: string };
    if (!routed.has(d.model)) routed.set(d.model, p.text);
  }
  const cheap = routed.get("small")!;
  const dear = routed.get("large")!;
  expect(cheap && dear).toBeTruthy();
  return { cheap, dear };
}

/**
 * A cluster link whose conversation store answers a new or changed model at once, and never answers a
 * renewal (the model a conversation already has): the primary's round trip, made endless.
 */
function slowRenewals(): { link: ClusterLink; renewals: () => number } {
  const memory = new Map<string, string>();
  let renewals = 0;
  const store: ConversationStore = {
    get: async (id) => memory.get(id),
    set: (id, label) => {
      if (memory.get(id) === label) {
        renewals++;
        return new Promise<void>(() => {});
      }
      memory.set(id, label);
      return Promise.resolve();
    },
  };
  const link: ClusterLink = {
    workerId: "1",
    workers: 1,
    stats: async () => {
      throw new Error("not asked in this test");
    },
    metrics: async () => "",
    reloaded: () => {},
    breakerChanged: () => {},
    conversations: () => store,
    serve: () => {},
  };
  return { link, renewals: () => renewals };
}

describe("conversations stay put", () => {
  it("a later turn on the model its conversation has answers without waiting for the store to renew it", async () => {
    const { link, renewals } = slowRenewals();
    const server = await startServer({
      model,
      cluster: link,
      config: serveConfig(),
    });
    try {
      const { cheap, dear } = await cheapAndDear(server.url);
      // Bounded: before, the second turn waited for the renewal for ever.
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 10_000 });
      const ask = async (content: string) =>
        (await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content }] }, { headers: { "x-triage-conversation": "renewed" } })).model;
      expect(await ask(cheap)).toBe("small"); // a new conversation: stored before the answer
      expect(await ask(dear)).toBe("small"); // kept: only renewed
      expect(renewals()).toBe(1);
    } finally {
      await server.close();
    }
  }, 60_000);

  it("a later turn keeps the first turn's model, a failed gate moves it up for good, and the log says which turns were sticky", async () => {
    const logPath = join(work, "decisions.sqlite");
    let movedTo = "";
    const withLog = await startServer({
      model,
      log: logPath,
      config: serveConfig(),
    });
    try {
      const { cheap, dear } = await cheapAndDear(withLog.url);
      const client = withLog.client();
      const ask = async (messages: { role: "user" | "assistant" | "system"; content: string }[], headers: Record<string, string> = {}) =>
        (await client.chat.completions.create({ model: "auto", messages }, { headers }).withResponse()).data.model;

      const turn1 = [
        { role: "system" as const, content: "be brief" },
        { role: "user" as const, content: cheap },
      ];
      expect(await ask(turn1)).toBe("small");
      const turn2 = [...turn1, { role: "assistant" as const, content: "an answer" }, { role: "user" as const, content: dear }];
      expect(await ask(turn2)).toBe("small"); // routing alone would take "large"
      // The same follow-up as a new conversation (another system prompt) routes afresh.
      expect(
        await ask([
          { role: "system", content: "be thorough" },
          { role: "user", content: dear },
        ]),
      ).toBe("large");

      // A named conversation: its first turn routes, its second stays.
      expect(await ask([{ role: "user", content: cheap }], { "x-triage-conversation": "conv-7" })).toBe("small");
      expect(await ask([{ role: "user", content: dear }], { "x-triage-conversation": "conv-7" })).toBe("small");

      // The kept model fails a gate: the turn escalates, and the conversation stays on the model that answered.
      fakes.get("small")!.setHandler(() => ({ type: "content", content: "I don't know." }));
      try {
        movedTo = await ask([...turn2, { role: "assistant", content: "x" }, { role: "user", content: cheap }]);
      } finally {
        fakes.get("small")!.setHandler(() => ({ type: "content", content: "an answer from small" }));
      }
      expect(movedTo).not.toBe("small");
      expect(
        await ask([...turn2, { role: "assistant", content: "x" }, { role: "user", content: cheap }, { role: "assistant", content: "y" }, { role: "user", content: cheap }]),
      ).toBe(movedTo);
    } finally {
      await withLog.close();
    }
    const log = DecisionLog.open(logPath, { readonly: true });
    try {
      const rows = log.query({ order: "asc" }).filter((r) => r.conversation !== null);
      expect(rows.map((r) => [r.label, r.sticky])).toEqual([
        ["small", false],
        ["small", true],
        ["large", false],
        ["small", false],
        ["small", true],
        ["small", true],
        [movedTo, true],
      ]);
      expect(new Set(rows.filter((_, i) => [0, 1, 5, 6].includes(i)).map((r) => r.conversation)).size).toBe(1);
      expect(rows[3].conversation).toBe("conv-7");
    } finally {
      log.close();
    }
  }, 120_000);
});

describe("the parallel pattern", () => {
  it("is off by default, and when on calls both models of the pair: the cheaper answer when they agree, else the stronger, both paid for", async () => {
    const logPath = join(work, "parallel.sqlite");
    const parallel = await startServer({
      model,
      log: logPath,
      config: {
        providers: MODELS.map((m) => ({ name: `p-${m}`, baseURL: fakes.get(m)!.baseURL, apiKey: "k", timeoutMs: 5000 })),
        tiers: Object.fromEntries(MODELS.map((m) => [m, { providers: [`p-${m}`], price: { input: m === "large" ? 10 : 0.5, output: m === "large" ? 30 : 0.5 } }])),
        parallel: { enabled: true, pair: ["large", "small"], threshold: 0.9 },
        reload: { watch: false, intervalMs: 1000 },
      },
    });
    const usage = { prompt_tokens: 100, completion_tokens: 50 };
    try {
      let cheap: string | undefined;
      for (const p of test.prompts) {
        const res = await fetch(`${parallel.url}/v1/route`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: p.text }) });
        if (((await res.json()) as { model: string }).model === "small") {
          cheap = p.text;
          break;
        }
      }
      expect(cheap).toBeDefined();
      const ask = async () => {
        const { data, response } = await parallel
          .client()
          .chat.completions.create({ model: "auto", messages: [{ role: "user", content: cheap! }] })
          .withResponse();
        return { model: data.model, parallel: response.headers.get("x-triage-parallel") };
      };
      fakes.get("small")!.setHandler(() => ({ type: "content", content: "The capital of France is Paris.", usage }));
      fakes.get("large")!.setHandler(() => ({ type: "content", content: "Paris is the capital city of France.", usage }));
      const before = { small: fakes.get("small")!.chatRequests().length, large: fakes.get("large")!.chatRequests().length };
      expect(await ask()).toEqual({ model: "small", parallel: "agree" });
      fakes.get("large")!.setHandler(() => ({ type: "content", content: "def merge(a, b): return sorted(a + b)  # a list-merging function in Python", usage }));
      expect(await ask()).toEqual({ model: "large", parallel: "disagree" });
      expect(fakes.get("small")!.chatRequests().length - before.small).toBe(2);
      expect(fakes.get("large")!.chatRequests().length - before.large).toBe(2);
    } finally {
      for (const m of MODELS) fakes.get(m)!.setHandler(() => ({ type: "content", content: `an answer from ${m}` }));
      await parallel.close();
    }
    const log = DecisionLog.open(logPath, { readonly: true });
    try {
      const chat = log.query({ order: "asc" }).filter((r) => r.feedback.length > 0);
      expect(chat).toHaveLength(2);
      for (const row of chat) {
        const costs = row.feedback.filter((f) => f.kind === "outcome");
        expect(costs.map((f) => f.finalModel).sort()).toEqual(["large", "small"]);
        expect(costs.every((f) => (f.costUsd ?? 0) > 0 && /parallel (agree|disagree)/.test(f.note ?? ""))).toBe(true);
      }
    } finally {
      log.close();
    }
  }, 120_000);

  it("a request to a tier outside the pair, or a server without the option, calls one model", async () => {
    const before = fakes.get("large")!.chatRequests().length;
    const { data } = await served
      .client()
      .chat.completions.create({ model: "auto", messages: [{ role: "user", content: test.prompts[0].text }] }, { headers: { "x-triage-max-cost": "0" } })
      .withResponse();
    expect(data.model).toBe("small");
    expect(fakes.get("large")!.chatRequests().length).toBe(before);
  });
});
