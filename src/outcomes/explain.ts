/**
 * @module What an outcome model tells about one choice: the expected quality and cost of the chosen
 * model, the runner-up, why one and not the other, and where a failed quality gate escalates.
 */
import { estimateTokens, tokenCostUsd } from "../config/price.js";
import type { OutcomeChoice } from "../router/types.js";
import type { ModelPrices } from "./prices.js";

export interface ChoiceContext {
  models: readonly string[];
  /** Model indices, cheapest first. */
  byCost: readonly number[];
  /** Mean cost per prompt per model in training (USD), used when there is no price list. */
  meanCost: ArrayLike<number>;
  prices?: ModelPrices;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The call's estimated cost: the prompt's tokens at the model's price, else the model's mean cost per prompt in training. */
export function expectedCost(ctx: ChoiceContext, model: number, text: string): number {
  const price = ctx.prices?.models.find((p) => p.name === ctx.models[model]);
  if (!price) return ctx.meanCost[model];
  return tokenCostUsd(price, estimateTokens(text), price.outputTokens ?? ctx.prices!.outputTokens);
}

/**
 * Explains choosing `chosen` from predictions `pred` at `tolerance` (cheapest model predicted within it of the best).
 * Runner-up: the best-predicted other model when the choice was the cheaper one good enough; when the
 * choice is the best predicted, the next-best predicted.
 */
export function explainChoice(ctx: ChoiceContext, pred: ArrayLike<number>, chosen: number, text: string, dial: OutcomeChoice["dial"]): OutcomeChoice {
  const order = ctx.byCost;
  const rank = (m: number) => order.indexOf(m);
  let runner = -1;
  for (const m of order) if (m !== chosen && (runner < 0 || pred[m] > pred[runner])) runner = m;
  const name = (m: number) => ctx.models[m];
  const cost = (m: number) => expectedCost(ctx, m, text);
  const q = (m: number) => r3(pred[m]);
  const knob = `${dial.rule} ${r3(dial.setting)}`;
  let why: string;
  if (runner < 0) why = `${name(chosen)} is the only model`;
  else if (pred[runner] > pred[chosen])
    why = `${name(chosen)} gives up ${r3(pred[runner] - pred[chosen])} of predicted quality against ${name(runner)} (${q(chosen)} vs ${q(runner)}) at ${ratio(cost(chosen), cost(runner))} the cost, which the dial (${knob}) accepts`;
  else if (rank(runner) < rank(chosen))
    why = `${name(runner)} is cheaper but predicted ${q(runner)}, ${r3(pred[chosen] - pred[runner])} below ${name(chosen)}'s ${q(chosen)}, more than the dial (${knob}) accepts`;
  else why = `${name(chosen)} is predicted best (${q(chosen)}); ${name(runner)} is predicted ${q(runner)} and costs ${ratio(cost(runner), cost(chosen))} as much`;
  const escalation = order
    .filter((m) => m !== chosen && pred[m] > pred[chosen])
    .sort((a, b) => pred[a] - pred[b] || rank(a) - rank(b))
    .map(name);
  return {
    expectedQuality: pred[chosen],
    expectedCostUsd: cost(chosen),
    runnerUp: runner < 0 ? null : { model: name(runner), expectedQuality: pred[runner], expectedCostUsd: cost(runner) },
    why,
    dial,
    escalation,
  };
}

function ratio(a: number, b: number): string {
  if (b === 0) return a === 0 ? "1.00×" : "∞×";
  const x = a / b;
  return x >= 10 ? `${Math.round(x)}×` : `${x.toFixed(2)}×`;
}
