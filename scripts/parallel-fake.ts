/**
 * The parallel pattern on a fake pair that replays real answers: MT-Bench's first-turn answers of
 * Mixtral-8x7B (the cheap side) and GPT-4 (the strong side), from RouteLLM's judgements. `triage serve`'s
 * createServer runs an outcome model (trained on data/outcomes/example.jsonl) whose cheapest and dearest
 * models are mapped to the two fakes, with `parallel: { pair, threshold }` on; every question is sent
 * with x-triage-max-cost: 0 so routing picks the cheap side and the pattern calls both.
 * Prints the agreement rate, what the answers cost (both calls, list prices, tokens = characters / 4) and
 * the GPT-4 judge's scores of the answers returned, against always-Mixtral and always-GPT-4.
 * Usage: npx tsx scripts/parallel-fake.ts [threshold]   (default 0.9)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { estimateTokens } from "../src/config/price.js";
import { createServer } from "../src/server/index.js";
import { DecisionLog } from "../src/store/index.js";
import { CLI } from "../test/helpers/cli.js";
import { startFakeOpenAI, type RecordedRequest } from "../test/helpers/fake-openai.js";
import { answerIn, GPT4, loadMtBench, MIXTRAL } from "./lib/mt-bench.js";

const threshold = Number(process.argv[2] ?? 0.9);
const { questions, judged } = loadMtBench("parallel-fake");
const CHEAP = MIXTRAL;
const STRONG = GPT4;
const firstTurn = (q: number, model: string) => judged(q, model, 1)!;
const byText = new Map(questions.map((q) => [q.turns[0], q.question_id]));

const replay = (model: string) => (req: RecordedRequest) => {
  const messages = (req.body as { messages: { role: string; content: string }[] }).messages;
  const q = byText.get(messages.filter((m) => m.role === "user").pop()!.content)!;
  const content = answerIn(firstTurn(q, model));
  return { type: "content" as const, content, usage: { prompt_tokens: estimateTokens(messages.map((m) => m.content).join("\n")), completion_tokens: estimateTokens(content) } };
};

const work = mkdtempSync(join(tmpdir(), "triage-parallel-"));
const model = join(work, "model");
execFileSync(process.execPath, [...CLI, "train", "--outcomes", "data/outcomes/example.jsonl", "--out", model], { stdio: ["ignore", "ignore", "inherit"] });
const cheap = await startFakeOpenAI({ handler: replay(CHEAP) });
const strong = await startFakeOpenAI({ handler: replay(STRONG) });
const logPath = join(work, "log.sqlite");
const server = await createServer({
  model,
  log: logPath,
  config: {
    providers: [
      { name: "cheap", baseURL: cheap.baseURL, apiKey: "k" },
      { name: "strong", baseURL: strong.baseURL, apiKey: "k" },
    ],
    tiers: {
      small: { model: CHEAP, providers: ["cheap"], price: { input: 0.6, output: 0.6 } },
      large: { model: STRONG, providers: ["strong"], price: { input: 10, output: 30 } },
    },
    parallel: { enabled: true, pair: ["small", "large"], threshold },
    gates: { enabled: false, minChars: 1, phrases: [], json: true },
    reload: { watch: false, intervalMs: 1000 },
  },
});
const { url } = await server.start(0, "127.0.0.1");
let agreed = 0;
let score = 0;
try {
  for (const q of questions) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-triage-max-cost": "0" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: q.turns[0] }] }),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    const agree = res.headers.get("x-triage-parallel") === "agree";
    if (agree) agreed++;
    score += firstTurn(q.question_id, agree ? CHEAP : STRONG).score;
  }
} finally {
  await server.close();
  await cheap.close();
  await strong.close();
}
const log = DecisionLog.open(logPath, { readonly: true });
const costs = { [CHEAP]: 0, [STRONG]: 0 } as Record<string, number>;
for (const d of log.query({})) for (const f of d.feedback) if (f.kind === "outcome" && f.finalModel && f.costUsd !== null) costs[f.finalModel] += f.costUsd;
log.close();
rmSync(work, { recursive: true, force: true });
const n = questions.length;
const mean = (model: string) => questions.reduce((s, q) => s + firstTurn(q.question_id, model).score, 0) / n;
console.log(
  `parallel pair on MT-Bench turn 1 (${n} questions, threshold ${threshold}): answers agreed on ${agreed}/${n} (${((agreed / n) * 100).toFixed(1)}%); ` +
    `cost $${(costs[CHEAP] + costs[STRONG]).toFixed(4)} (Mixtral $${costs[CHEAP].toFixed(4)} + GPT-4 $${costs[STRONG].toFixed(4)}) vs GPT-4 alone $${costs[STRONG].toFixed(4)} (+${((costs[CHEAP] / costs[STRONG]) * 100).toFixed(1)}%) and Mixtral alone $${costs[CHEAP].toFixed(4)}; ` +
    `judge score of the answers returned ${(score / n).toFixed(2)} vs always Mixtral ${mean(CHEAP).toFixed(2)}, always GPT-4 ${mean(STRONG).toFixed(2)} (of 10).`,
);
