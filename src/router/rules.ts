import type { RuleConfig } from "../config/schema.js";

export interface CompiledRule {
  label: string;
  test(text: string): boolean;
}

/** Rules from the config, checked in order before the model: obvious cases need no embedding. */
export function compileRules(rules: readonly RuleConfig[]): CompiledRule[] {
  return rules.map((r) => {
    const regex = r.pattern !== undefined ? new RegExp(r.pattern, r.flags) : undefined;
    const keywords = (r.keywords ?? []).map((k) => new RegExp(`(^|\\W)${escapeRegExp(k.toLowerCase())}($|\\W)`));
    return {
      label: r.label,
      test: (text: string) => regex?.test(text) || keywords.some((k) => k.test(text.toLowerCase())),
    };
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
