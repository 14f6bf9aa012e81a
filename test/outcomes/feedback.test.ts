/**
 * Per-model outcomes from production: the proxy records each quality gate's verdict as a score of the
 * model that answered, and thumbs or an explicit score (POST /v1/feedback, `triage feedback`) are stored
 * against the model that answered the request. Real server on 127.0.0.1, fake providers, real SQLite log,
 * a real CLI process.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionLog } from "../../src/store/index.js";
import { CLI } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir } from "../helpers/tiers.js";
import { postJson, startServer, type Running } from "../server/setup.js";

const run = promisify(execFile);
const MODELS = ["small", "medium", "large"];

let work: string;
let cache: string;
let logPath: string;
const fakes = new Map<string, FakeOpenAI>();
let served: Running;
let prodLog: DecisionLog;

async function triage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: cache } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

beforeAll(async () => {
  work = tempDir();
  cache = join(work, "cache.sqlite");
  logPath = join(work, "decisions.sqlite");
  const model = join(work, "model");
  const trained = await triage(["train", "--outcomes", "data/outcomes/example.jsonl", "--out", model, "--encoder", "use"]);
  expect(trained.code, trained.stderr).toBe(0);
  for (const m of MODELS) {
    const fake = await startFakeOpenAI();
    // The cheapest model's answers fail the default "uncertain" gate; the others pass.
    fake.setHandler(() => ({ type: "content", content: m === "small" ? "I don't know." : `a full answer from ${m}` }));
    fakes.set(m, fake);
  }
  prodLog = DecisionLog.open(logPath);
  served = await startServer({
    model,
    log: prodLog,
    config: {
      providers: MODELS.map((m) => ({ name: `p-${m}`, baseURL: fakes.get(m)!.baseURL, apiKey: "k", timeoutMs: 5000 })),
      tiers: Object.fromEntries(MODELS.map((m) => [m, { providers: [`p-${m}`] }])),
      reload: { watch: false, intervalMs: 1000 },
    },
  });
}, 180_000);

afterAll(async () => {
  await served?.close();
  prodLog?.close();
  await Promise.all([...fakes.values()].map((f) => f.close()));
});

function decision(requestId: string) {
  prodLog.flush();
  return prodLog.query({ requestId })[0];
}

describe("outcomes recorded in production", () => {
  it("a failed gate scores the model that answered 0 and a passed one 1; thumbs and scores go to the model that answered", async () => {
    const client = served.client();
    // A prompt the model routes to the cheapest model at the default dial.
    const route = await postJson(`${served.url}/v1/route`, JSON.stringify({ text: "What is the capital of France?" }));
    expect(((await route.json()) as { model: string }).model).toBe("small");

    const res = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "What is the capital of France?" }] }, { headers: { "x-request-id": "prod-0001" } })
      .withResponse();
    const answeredBy = res.data.model;
    expect(answeredBy).not.toBe("small");

    const scored = () => decision("prod-0001").feedback.filter((f) => f.kind === "score");
    const gates = scored();
    expect(gates[0]).toMatchObject({ finalModel: "small", score: 0 });
    expect(gates[0].note).toMatch(/gate uncertain failed/);
    // The model escalated to passed its gate, unless it was the last of the path (not gated).
    if (gates.length > 1) expect(gates[1]).toMatchObject({ finalModel: answeredBy, score: 1 });

    const http = await postJson(`${served.url}/v1/feedback`, JSON.stringify({ requestId: "prod-0001", score: 0.25 }));
    expect(http.status).toBe(200);
    expect(await http.json()).toMatchObject({ kind: "score", score: 0.25, finalModel: answeredBy });
    const bad = await postJson(`${served.url}/v1/feedback`, JSON.stringify({ requestId: "prod-0001", score: 1.5 }));
    expect(bad.status).toBe(400);

    await served.close();
    prodLog.close();
    const cli = await triage(["feedback", "--log-db", logPath, "--request-id", "prod-00", "--thumbs", "down"]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ kind: "thumbs", thumbs: -1, finalModel: answeredBy });
    const badCli = await triage(["feedback", "--log-db", logPath, "--request-id", "prod-0001", "--score", "2"]);
    expect(badCli.code).not.toBe(0);
    expect(badCli.stderr).toMatch(/--score/);

    prodLog = DecisionLog.open(logPath);
    const after = decision("prod-0001").feedback;
    expect(after.filter((f) => f.kind === "score").at(-1)).toMatchObject({ score: 0.25, finalModel: answeredBy });
    expect(after.filter((f) => f.kind === "thumbs")).toMatchObject([{ thumbs: -1, finalModel: answeredBy }]);
  });
});
