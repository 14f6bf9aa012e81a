/** @module An upstream answer's usage as the pricing module reads it; what a call costs is config/price.ts's callCostUsd. */
import type { CallUsage } from "../../config/price.js";

export type Usage = CallUsage;

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
