/**
 * @module
 * The two kinds of model the dashboard shows: tier models (labels, margin threshold, nearest examples)
 * and outcome models (`train --outcomes`: models priced and chosen by predicted quality). Pages branch on
 * the kind here; features that only a tier model has say so in one sentence instead of failing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readManifest, type Manifest } from "../../model/artifact.js";
import { OUTCOME_FILES, OUTCOME_KIND, readOutcomeManifest, type OutcomeManifest } from "../../outcomes/artifact.js";

export type AnyManifest = Manifest | OutcomeManifest;

export function isOutcomeManifest(m: AnyManifest | null | undefined): m is OutcomeManifest {
  return (m as { kind?: unknown } | null | undefined)?.kind === OUTCOME_KIND;
}

/** The manifest when it is a tier model's, else null. */
export function tierManifest(m: AnyManifest | null | undefined): Manifest | null {
  return m && !isOutcomeManifest(m) ? m : null;
}

/** Reads an artifact's manifest of either kind, each checked by its own reader. */
export function readAnyManifest(dir: string): AnyManifest {
  let kind: unknown;
  try {
    kind = (JSON.parse(readFileSync(join(dir, OUTCOME_FILES.manifest), "utf8")) as { kind?: unknown }).kind;
  } catch {
    // readManifest names the problem.
  }
  return kind === OUTCOME_KIND ? readOutcomeManifest(dir) : readManifest(dir);
}

/** What a tier-only feature says for an outcome model. */
export function tierOnly(what: string): string {
  return `${what}: for tier models only; this is an outcome model, which routes by each model's predicted quality rather than by labels`;
}
