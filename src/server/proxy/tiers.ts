/**
 * What each tier forwards to: the model artifact's tiers config (model, price, maxTokens, systemPrompt,
 * providers) with the server config's per-tier overrides on top. Read per request, so a reloaded model's
 * tiers config applies at once.
 */
import { mostExpensive } from "../../config/price.js";
import type { Price } from "../../config/schema.js";
import type { AnyRouter } from "../../outcomes/open.js";
import type { ServerConfig } from "../config.js";

export interface Tier {
  name: string;
  model?: string;
  /** Provider names in failover order. */
  providers: string[];
  maxTokens?: number;
  systemPrompt?: string;
  price?: Price;
}

export function tierTable(router: AnyRouter, config: ServerConfig, allProviders: readonly string[]): Map<string, Tier> {
  const out = new Map<string, Tier>();
  for (const label of router.manifest.config.labels) {
    const o = config.tiers[label.name] ?? {};
    out.set(label.name, {
      name: label.name,
      model: o.model ?? label.model,
      // Providers named in the artifact but not configured on this server are skipped, not fatal.
      providers: (o.providers ?? label.providers ?? allProviders).filter((p) => allProviders.includes(p)),
      maxTokens: o.maxTokens ?? label.maxTokens,
      systemPrompt: o.systemPrompt ?? label.systemPrompt,
      price: o.price ?? label.price,
    });
  }
  return out;
}

/** Tiers in escalation order: the configured path, else the labels when they are ordered tiers, else none. */
export function escalationPath(router: AnyRouter, config: ServerConfig, group?: readonly string[]): string[] {
  const base = config.escalation.path ?? (router.manifest.ordered !== false ? [...router.labels] : []);
  return group ? base.filter((t) => group.includes(t)) : base;
}

/**
 * The tier a decision maps to inside a route group: the label itself when the group has it, else the
 * cheapest group tier at least as capable (ordered tiers), else the group's most capable tier.
 */
export function clampToGroup(label: string, group: readonly string[] | undefined, labels: readonly string[], ordered: boolean): string {
  if (!group || group.includes(label)) return label;
  if (!ordered) return group[0];
  const rank = (t: string) => labels.indexOf(t);
  const sorted = [...group].sort((a, b) => rank(a) - rank(b));
  return sorted.find((t) => rank(t) >= rank(label)) ?? sorted[sorted.length - 1];
}

/** The most expensive priced tier (input + output price), the savings baseline. */
export function mostExpensiveTier(tiers: Map<string, Tier>): { tier: string; price: Price } | undefined {
  const best = mostExpensive([...tiers.values()].map((t): [string, Price | undefined] => [t.name, t.price]));
  return best && { tier: best.key, price: best.price };
}
