/**
 * @module The routes/tiers config (config/): its schema (labels in cost order, prices, rules, low-confidence
 * policy), the loader with file:line errors, and the one pricing module (price.ts) every cost and saving
 * goes through.
 */

import { z } from "zod";

/** USD per 1M tokens. */
export const priceSchema = z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() });

export const labelSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Model the tier maps to at the provider, e.g. "gpt-4o-mini". */
  model: z.string().optional(),
  /** Provider names in failover order (server). */
  providers: z.array(z.string()).optional(),
  price: priceSchema.optional(),
  maxTokens: z.number().int().positive().optional(),
  systemPrompt: z.string().optional(),
});

export const ruleSchema = z
  .object({
    label: z.string().min(1),
    /** Regular expression source, tested against the query. */
    pattern: z.string().optional(),
    flags: z.string().optional(),
    /** Any of these words/phrases (case-insensitive) matches. */
    keywords: z.array(z.string().min(1)).optional(),
  })
  .refine((r) => r.pattern !== undefined || (r.keywords !== undefined && r.keywords.length > 0), {
    message: "a rule needs `pattern` or `keywords`",
  });

export const policySchema = z.object({
  /** What to do below the calibrated margin. */
  lowConfidence: z.enum(["escalate", "abstain", "fallback"]).default("escalate"),
  /** Route used by `abstain` (and when an unordered set escalates). */
  abstainLabel: z.string().optional(),
  /** Accuracy the accepted (confident) decisions must reach; sets the margin threshold. */
  targetAccuracy: z.number().gt(0).lte(1).default(0.95),
  /**
   * Share of in-scope queries allowed to be flagged as novel (nearest example too far), which is what
   * catches out-of-scope traffic; 0 turns the check off.
   */
  noveltyRate: z.number().min(0).max(0.5).default(0.05),
});

export const routesConfigSchema = z.object({
  /** true: labels are tiers in increasing cost order; false: plain named routes. */
  ordered: z.boolean().default(true),
  labels: z.array(labelSchema).min(2),
  rules: z.array(ruleSchema).default([]),
  policy: policySchema.default({ lowConfidence: "escalate", targetAccuracy: 0.95, noveltyRate: 0.05 }),
});

export type Price = z.infer<typeof priceSchema>;
export type LabelConfig = z.infer<typeof labelSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
export type RoutesConfig = z.infer<typeof routesConfigSchema>;
