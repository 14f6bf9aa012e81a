/**
 * @module An outcome decision's dial in the log's `dial` column (schema 5): written as the JSON of
 * `Decision.outcome.dial`, read back checked, so that a value the log cannot vouch for (edited by hand,
 * written by something else) reads as null, as for rows that have none, instead of failing the read.
 */
import { z } from "zod";
import type { Decision } from "../router/types.js";
import type { LoggedDial } from "./types.js";

const common = {
  rule: z.enum(["tolerance", "lambda"]),
  setting: z.number().finite(),
  from: z.enum(["request", "default"]),
};

// Exactly one of quality and maxCost, as the Dial type says.
const loggedDialSchema = z.union([z.object({ quality: z.number().finite(), ...common }).strict(), z.object({ maxCost: z.number().finite(), ...common }).strict()]);

/** The column's value: the decision's dial as JSON (its known fields only), or null for a tier decision. */
export function dialColumn(d: Decision): string | null {
  const dial = d.outcome?.dial;
  if (!dial) return null;
  const value = "quality" in dial ? { quality: dial.quality } : { maxCost: dial.maxCost };
  return JSON.stringify({ ...value, rule: dial.rule, setting: dial.setting, from: dial.from });
}

/** The dial a row holds, or null when it holds none or one that is not a dial. */
export function readDial(raw: string | null): LoggedDial | null {
  if (raw === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = loggedDialSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
