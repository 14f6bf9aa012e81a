/** USD per 1M tokens, the unit every price in triage is given in. */
export interface TokenPrice {
  input: number;
  output: number;
}

/** USD for one call's tokens at a per-1M-token price. */
export function tokenCostUsd(price: TokenPrice, tokensIn: number, tokensOut: number): number {
  return (tokensIn * price.input + tokensOut * price.output) / 1e6;
}

/** The entry with the highest input + output price: the savings baseline ("everything to the top tier"). */
export function mostExpensive<K>(entries: Iterable<[K, TokenPrice | undefined]>): { key: K; price: TokenPrice } | undefined {
  let best: { key: K; price: TokenPrice } | undefined;
  for (const [key, price] of entries) if (price && (!best || price.input + price.output > best.price.input + best.price.output)) best = { key, price };
  return best;
}
