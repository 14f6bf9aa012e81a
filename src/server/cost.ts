/** The cost of one upstream call: the provider's own figure when it sends one (OpenRouter's usage.cost), else tokens x price. */
import { tokenCostUsd } from "../config/price.js";
import type { Price } from "../config/schema.js";

export interface Usage {
  tokensIn?: number;
  tokensOut?: number;
  /** USD as reported by the provider. */
  costUsd?: number;
}

export function readUsage(usage: unknown): Usage | undefined {
  if (typeof usage !== "object" || usage === null) return undefined;
  const u = usage as Record<string, unknown>;
  const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);
  const out: Usage = {};
  const tin = int(u.prompt_tokens);
  const tout = int(u.completion_tokens);
  if (tin !== undefined) out.tokensIn = tin;
  if (tout !== undefined) out.tokensOut = tout;
  if (typeof u.cost === "number" && Number.isFinite(u.cost) && u.cost >= 0) out.costUsd = u.cost;
  return Object.keys(out).length ? out : undefined;
}

export function callCost(usage: Usage | undefined, price: Price | undefined): number | undefined {
  if (!usage) return undefined;
  if (usage.costUsd !== undefined) return usage.costUsd;
  if (!price || (usage.tokensIn === undefined && usage.tokensOut === undefined)) return undefined;
  return tokenCostUsd(price, usage.tokensIn ?? 0, usage.tokensOut ?? 0);
}
