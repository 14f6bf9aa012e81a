/**
 * What keeping a conversation on one model does on MT-Bench's two-turn questions (RouteLLM's judgements of
 * Mixtral-8x7B and GPT-4, GPT-4 as judge, scores 1–10).
 *
 * An outcome model is trained on the turns (text = that turn's user message, as the proxy routes on the
 * last user message; score = judge score / 10; costs from list prices) with 5-fold cross-validation by
 * question, so every question is routed by a model that never saw it. Each held-out question's two turns
 * are routed at the dial; the second turn "would switch" when routing alone picks another model for it.
 * Cost per conversation, tokens as characters / 4, answers as long as the judged ones:
 *  - turn 1: q1 in, a1 out, on the first model;
 *  - turn 2: q1 + a1 + q2 in, a2 out, on the kept model (sticky) or the routed one (not sticky). The kept
 *    model has just read q1 + a1, so its provider's prompt cache can bill them as cached input; a switched
 *    model re-reads them in full. Reported with no cache discount and with cached input at half price.
 * Usage: npx tsx scripts/mt-bench-sticky.ts [quality ...]   (default 0.95 0.9 0.8)
 */
import { estimateTokens, tokenCostUsd } from "../src/config/price.js";
import { CachedEncoder } from "../src/encoders/cache.js";
import { DEFAULT_CACHE_PATH } from "../src/encoders/resolve.js";
import { UseEncoder } from "../src/encoders/use/encoder.js";
import { foldIds } from "../src/outcomes/cv.js";
import { settingFor } from "../src/outcomes/dial.js";
import { fitOutcomeModel } from "../src/outcomes/fit.js";
import { applyPrices, ROUTELLM_PRICES } from "../src/outcomes/prices.js";
import type { OutcomePrompt, OutcomeSet } from "../src/outcomes/set.js";
import { choose } from "../src/outcomes/sweep.js";
import { answerIn, GPT4, loadMtBench, MIXTRAL, type Question } from "./lib/mt-bench.js";

const { questions, judged } = loadMtBench("mt-bench-sticky");
const MODELS = [MIXTRAL, GPT4];
const qualities = (process.argv.slice(2).length ? process.argv.slice(2) : ["0.95", "0.9", "0.8"]).map(Number);

// Turn-level outcome rows: 2 per question.
const rows: { q: Question; turn: number; prompt: OutcomePrompt }[] = [];
for (const q of questions)
  for (const turn of [1, 2]) {
    const scores = Float64Array.from(MODELS, (m) => {
      const s = judged(q.question_id, m, turn)?.score;
      return s === undefined || s < 0 ? NaN : s / 10;
    });
    rows.push({
      q,
      turn,
      prompt: { id: `${q.question_id}:${turn}`, text: q.turns[turn - 1], scores, costs: new Float64Array(MODELS.length).fill(NaN), where: `mt_bench:${q.question_id}:${turn}` },
    });
  }
const all: OutcomeSet = applyPrices({ models: MODELS, prompts: rows.map((r) => r.prompt), costSource: "none", notes: [] }, ROUTELLM_PRICES, "built-in RouteLLM prices");

const encoder = new CachedEncoder(await UseEncoder.load(), DEFAULT_CACHE_PATH);
const vectors = await encoder.embed(all.prompts.map((p) => p.text));
await encoder.close();

const FOLDS = 5;
const folds = foldIds(questions.length, FOLDS, 1);
const foldOfQuestion = new Map(questions.map((q, i) => [q.question_id, folds[i]]));
/** Per dial: routed model index per row (turn), from the fold that held the row's question out. */
const routed = new Map<number, Int32Array>(qualities.map((q) => [q, new Int32Array(rows.length)]));
for (let f = 0; f < FOLDS; f++) {
  const inside = rows.map((_, i) => i).filter((i) => foldOfQuestion.get(rows[i].q.question_id) !== f);
  const held = rows.map((_, i) => i).filter((i) => foldOfQuestion.get(rows[i].q.question_id) === f);
  const train: OutcomeSet = { ...all, prompts: inside.map((i) => all.prompts[i]) };
  const fitted = await fitOutcomeModel(
    train,
    inside.map((i) => vectors[i]),
    { seed: 1, folds: 4 },
  );
  const p = fitted.predictor;
  for (const quality of qualities) {
    const setting = settingFor(fitted.calibration, { quality });
    for (const i of held) routed.get(quality)![i] = choose(fitted.calibration.rule, p.predict(vectors[i], all.prompts[i].text), p.byCost, p.relativeCost, setting);
  }
}

const price = (m: number) => ROUTELLM_PRICES.models.find((x) => x.name === MODELS[m])!;
const cost = (m: number, inTokens: number, cachedTokens: number, outTokens: number, cacheDiscount: number) =>
  tokenCostUsd(price(m), inTokens - cachedTokens * cacheDiscount, outTokens);

console.log(`MT-Bench: ${questions.length} two-turn questions; routers trained ${FOLDS}-fold by question on the other questions' turns.`);
for (const quality of qualities) {
  const r = routed.get(quality)!;
  let switches = 0;
  let upSwitches = 0;
  const totals = { sticky: [0, 0], free: [0, 0], stickyQ: 0, freeQ: 0, n: 0 };
  questions.forEach((q, qi) => {
    const m1 = r[2 * qi];
    const m2 = r[2 * qi + 1];
    if (m1 !== m2) switches++;
    if (m2 > m1) upSwitches++;
    const a1 = answerIn(judged(q.question_id, MODELS[m1], 1));
    const t1in = estimateTokens(q.turns[0]);
    const t1out = estimateTokens(a1);
    const ctx = t1in + t1out;
    const t2in = ctx + estimateTokens(q.turns[1]);
    const out2 = (m: number) => estimateTokens(answerIn(judged(q.question_id, MODELS[m], 2)));
    [0, 0.5].forEach((discount, k) => {
      const first = cost(m1, t1in, 0, t1out, discount);
      totals.sticky[k] += first + cost(m1, t2in, ctx, out2(m1), discount);
      totals.free[k] += first + cost(m2, t2in, m2 === m1 ? ctx : 0, out2(m2), discount);
    });
    const s2 = (m: number) => all.prompts[2 * qi + 1].scores[m];
    if (!Number.isNaN(s2(m1)) && !Number.isNaN(s2(m2))) {
      totals.stickyQ += s2(m1);
      totals.freeQ += s2(m2);
      totals.n++;
    }
  });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const gpt4Share = [...r].filter((m) => m === 1).length / r.length;
  console.log(
    `quality ${quality}: turn 2 would switch in ${switches}/${questions.length} conversations (${pct(switches / questions.length)}; ${upSwitches} up to GPT-4, ${switches - upSwitches} down); ` +
      `GPT-4 on ${pct(gpt4Share)} of turns routed alone. Cost of the ${questions.length} conversations: sticky $${totals.sticky[0].toFixed(4)} vs switching $${totals.free[0].toFixed(4)} ` +
      `(${pct(totals.sticky[0] / totals.free[0] - 1)}); with cached input at half price $${totals.sticky[1].toFixed(4)} vs $${totals.free[1].toFixed(4)} (${pct(totals.sticky[1] / totals.free[1] - 1)}). ` +
      `Turn-2 judge score: sticky ${((totals.stickyQ / totals.n) * 10).toFixed(2)} vs switching ${((totals.freeQ / totals.n) * 10).toFixed(2)} (of 10, ${totals.n} questions).`,
  );
}
