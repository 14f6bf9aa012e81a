import { describe, expect, it } from "vitest";
import { callCostUsd, estimateTokens, mostExpensive, priceTable, savings, tokenCostUsd } from "../../src/config/price.js";

describe("the pricing module", () => {
  it("prices a call by the provider's figure first, else its tokens", () => {
    const price = { input: 2, output: 10 }; // USD per 1M tokens
    expect(tokenCostUsd(price, 1000, 500)).toBeCloseTo(0.002 + 0.005, 12);
    expect(callCostUsd({ costUsd: 0.5, tokensIn: 1000 }, price)).toBe(0.5);
    expect(callCostUsd({ tokensIn: 1000 }, price)).toBeCloseTo(0.002, 12);
    expect(callCostUsd({ tokensIn: 1000 }, undefined)).toBeUndefined();
    expect(callCostUsd({}, price)).toBeUndefined();
    expect(callCostUsd(undefined, price)).toBeUndefined();
  });

  it("keys a config's prices by label and by model, and finds the savings baseline", () => {
    const labels = [{ name: "SIMPLE", model: "small", price: { input: 0.1, output: 0.4 } }, { name: "COMPLEX", model: "large", price: { input: 3, output: 15 } }, { name: "FREE" }];
    const table = priceTable(labels);
    expect(Object.keys(table).sort()).toEqual(["COMPLEX", "SIMPLE", "large", "small"]);
    expect(table.large).toEqual({ input: 3, output: 15 });
    expect(mostExpensive(Object.entries(table))?.price).toEqual({ input: 3, output: 15 });
    expect(savings(10, 4)).toEqual({ savingsUsd: 6, savingsRate: 0.6 });
    expect(savings(0, 0)).toEqual({ savingsUsd: 0, savingsRate: null });
    expect(estimateTokens("12345678")).toBe(2);
  });
});
