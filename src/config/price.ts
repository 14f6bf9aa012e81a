/**
 * @module
 * Prices and what calls cost: the one pricing module. Every price in triage is USD per 1M tokens; the
 * server, the decision log's stats, the fallback classifier and outcome data all price calls here.
 */
import type { LabelConfig } from "./schema.js";

/** USD per 1M tokens, the unit every price in triage is given in. */
export interface TokenPrice {
  input: number;
  output: number;
}

/** Prices by label (tier) name and by model name, as a config's labels give them. */
export type PriceTable = Record<string, TokenPrice>;

/** What is known about one upstream call: the provider's own cost figure and/or its token counts. */
export interface CallUsage {
  tokensIn?: number;
  tokensOut?: number;
  /** USD as reported by the provider (e.g. OpenRouter's usage.cost). */
  costUsd?: number;
}

/** USD for one call's tokens at a per-1M-token price. */
export function tokenCostUsd(price: TokenPrice, tokensIn: number, tokensOut: number): number {
  return (tokensIn * price.input + tokensOut * price.output) / 1e6;
}

/** A call's cost: the provider's own figure when it sent one, else its tokens at `price`; undefined when neither is known. */
export function callCostUsd(usage: CallUsage | undefined, price: TokenPrice | undefined): number | undefined {
  if (!usage) return undefined;
  if (usage.costUsd !== undefined) return usage.costUsd;
  if (!price || (usage.tokensIn === undefined && usage.tokensOut === undefined)) return undefined;
  return tokenCostUsd(price, usage.tokensIn ?? 0, usage.tokensOut ?? 0);
}

/** The entry with the highest input + output price: the savings baseline ("everything to the top tier"). */
export function mostExpensive<K>(entries: Iterable<[K, TokenPrice | undefined]>): { key: K; price: TokenPrice } | undefined {
  let best: { key: K; price: TokenPrice } | undefined;
  for (const [key, price] of entries) if (price && (!best || price.input + price.output > best.price.input + best.price.output)) best = { key, price };
  return best;
}

/** What routing saved against the baseline spend (rate null when the baseline cost nothing). */
export function savings(baselineUsd: number, actualUsd: number): { savingsUsd: number; savingsRate: number | null } {
  return { savingsUsd: baselineUsd - actualUsd, savingsRate: baselineUsd > 0 ? (baselineUsd - actualUsd) / baselineUsd : null };
}

/** Each priced label under its own name and under its model's name, so a call can be priced by either. */
export function priceTable(labels: readonly Pick<LabelConfig, "name" | "model" | "price">[]): PriceTable {
  const prices: PriceTable = {};
  for (const l of labels) {
    if (!l.price) continue;
    prices[l.name] = l.price;
    if (l.model) prices[l.model] = l.price;
  }
  return prices;
}

/** Rough token count: ~4 characters per token for English (no tokenizer needed for a price estimate). */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
