import { writeFileAtomic } from "../common/atomic.js";
import { modelsByCost, type OutcomeSet } from "./set.js";

export interface GoodEnough {
  /** A model is good enough when its score >= threshold ... */
  threshold?: number;
  /** ... or within epsilon of the best score on that prompt (either condition suffices). */
  epsilon?: number;
  /** What to label prompts no model handles: the cheapest model (default: no point paying) or the best-scoring one. */
  whenNone?: "cheapest" | "best";
}

/**
 * The training target of each prompt: the index of the cheapest model that is good enough.
 * Unknown scores never count as good enough. Defaults: threshold 0.5 (0/1 correctness), no epsilon.
 */
export function cheapestGoodEnough(set: OutcomeSet, rule: GoodEnough = {}): number[] {
  const threshold = rule.threshold ?? 0.5;
  const order = modelsByCost(set);
  return set.prompts.map((p) => {
    let best = -Infinity;
    let bestModel = order[0];
    for (const m of order)
      if (p.scores[m] > best) {
        best = p.scores[m];
        bestModel = m;
      }
    for (const m of order) {
      const s = p.scores[m];
      if (Number.isNaN(s)) continue;
      if (s >= threshold || (rule.epsilon !== undefined && s >= best - rule.epsilon)) return m;
    }
    return rule.whenNone === "best" ? bestModel : order[0];
  });
}

/** Writes `{text, label}` JSONL (label = model name) that `triage train` reads, atomically. Returns the row count. */
export function writeOutcomeLabels(set: OutcomeSet, path: string, rule: GoodEnough = {}): number {
  const targets = cheapestGoodEnough(set, rule);
  const lines = set.prompts.map((p, i) => JSON.stringify({ text: p.text, label: set.models[targets[i]] }));
  writeFileAtomic(path, lines.join("\n") + "\n");
  return lines.length;
}
