import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TriageError } from "../common/errors.js";
import { readTextFile } from "../common/text-file.js";
import { routesConfigSchema, type RoutesConfig } from "./schema.js";

/** Parses a YAML or JSON file and validates it, naming the file and field on any error. */
export function loadStructuredFile<T>(path: string, schema: z.ZodType<T>): T {
  const text = readTextFile(path);
  let raw: unknown;
  try {
    raw = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new TriageError(`${path}: not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new TriageError(`${path}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

export function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}

/** A routes config given as a path or already in memory; undefined stays undefined (labels then come from the data). */
export function resolveRoutesConfig(config: string | RoutesConfig | undefined): RoutesConfig | undefined {
  if (config === undefined) return undefined;
  return typeof config === "string" ? loadRoutesConfig(config) : config;
}

export function loadRoutesConfig(path: string): RoutesConfig {
  const config = loadStructuredFile(path, routesConfigSchema);
  const names = new Set<string>();
  for (const l of config.labels) {
    if (names.has(l.name)) throw new TriageError(`${path}: labels: "${l.name}" is listed twice`);
    names.add(l.name);
  }
  config.rules.forEach((r, i) => {
    if (!names.has(r.label)) throw new TriageError(`${path}: rules.${i}.label: "${r.label}" is not a configured label`);
    if (r.pattern !== undefined) {
      try {
        new RegExp(r.pattern, r.flags);
      } catch (err) {
        throw new TriageError(`${path}: rules.${i}.pattern: ${(err as Error).message}`);
      }
    }
  });
  const abstain = config.policy.abstainLabel;
  if (abstain !== undefined && !names.has(abstain)) throw new TriageError(`${path}: policy.abstainLabel: "${abstain}" is not a configured label`);
  return config;
}
