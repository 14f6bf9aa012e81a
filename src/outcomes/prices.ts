import { z } from "zod";
import { TriageError } from "../common/errors.js";
import { loadStructuredFile } from "../config/load.js";
import { estimateTokens, tokenCostUsd } from "../config/price.js";
import { priceSchema } from "../config/schema.js";
import type { OutcomeSet } from "./set.js";

/** A model list with prices (USD per 1M tokens), for outcome data that carries no costs. */
export const modelPricesSchema = z.object({
  /** Output tokens assumed per answer when the data does not say. */
  outputTokens: z.number().int().nonnegative().default(100),
  models: z.array(priceSchema.extend({ name: z.string().min(1), outputTokens: z.number().int().nonnegative().optional() })).min(1),
  /** Where the prices come from; printed in reports. */
  source: z.string().optional(),
});

export type ModelPrices = z.infer<typeof modelPricesSchema>;

/**
 * RouteLLM's data has no costs. Published list prices (USD / 1M tokens) at the time of the data:
 * gpt-4-1106-preview $10 in / $30 out (OpenAI); Mixtral-8x7B-Instruct $0.60 / $0.60 (Together AI).
 */
export const ROUTELLM_PRICES: ModelPrices = {
  outputTokens: 100,
  models: [
    { name: "gpt-4-1106-preview", input: 10, output: 30 },
    { name: "mistralai/Mixtral-8x7B-Instruct-v0.1", input: 0.6, output: 0.6 },
  ],
  source:
    "list prices: gpt-4-1106-preview $10/$30 per 1M in/out tokens (OpenAI), Mixtral-8x7B-Instruct $0.60/$0.60 (Together AI); tokens estimated as prompt characters / 4 in, 100 out",
};

export function loadModelPrices(path: string): ModelPrices {
  return loadStructuredFile(path, modelPricesSchema);
}

/**
 * Fills every unknown cost from the price list: input tokens from the prompt, a fixed output estimate.
 * Costs already in the data are kept. Fails naming the models the list lacks.
 */
export function applyPrices(set: OutcomeSet, prices: ModelPrices, origin = "price list"): OutcomeSet {
  const byName = new Map(prices.models.map((m) => [m.name, m]));
  const needs = set.models.filter((_, m) => set.prompts.some((p) => Number.isNaN(p.costs[m])));
  const missing = needs.filter((n) => !byName.has(n));
  if (missing.length > 0) throw new TriageError(`${origin}: no price for model(s) ${missing.join(", ")} (the data has no costs for them)`);
  const prompts = set.prompts.map((p) => {
    const costs = Float64Array.from(p.costs);
    set.models.forEach((name, m) => {
      if (!Number.isNaN(costs[m])) return;
      const price = byName.get(name)!;
      const out = price.outputTokens ?? prices.outputTokens;
      costs[m] = tokenCostUsd(price, estimateTokens(p.text), out);
    });
    return { ...p, costs };
  });
  const note = `costs estimated from ${prices.source ?? origin}`;
  return { ...set, prompts, costSource: needs.length > 0 ? "prices" : set.costSource, notes: needs.length > 0 ? [...set.notes, note] : set.notes };
}

/**
 * Fills missing costs: from the price list at `pricesPath`, else RouteLLM's two models' published prices
 * when the data is theirs; fails naming the models otherwise. Returns the prices used, if any.
 */
export function fillCosts(set: OutcomeSet, pricesPath: string | undefined): { set: OutcomeSet; prices?: ModelPrices } {
  if (pricesPath) {
    const prices = loadModelPrices(pricesPath);
    return { set: applyPrices(set, prices, pricesPath), prices };
  }
  if (set.prompts.every((p) => p.costs.every((c) => !Number.isNaN(c)))) return { set };
  const known = new Set(ROUTELLM_PRICES.models.map((m) => m.name));
  if (set.models.every((m) => known.has(m))) return { set: applyPrices(set, ROUTELLM_PRICES, "built-in RouteLLM prices"), prices: ROUTELLM_PRICES };
  throw new TriageError(`the data has no costs for some models (${set.models.join(", ")}): give --prices FILE (YAML/JSON: models: [{name, input, output}] in USD per 1M tokens)`);
}
