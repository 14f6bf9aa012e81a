/**
 * Per-model outcome data: for each past prompt, how well each candidate model did and what it cost.
 * This is what teams have instead of tier labels (issue #5).
 */

export interface OutcomePrompt {
  /** Stable id (from the data, or "file:line"). Splits and reports use it. */
  id: string;
  /** The text routed on (for few-shot prompts: the last question only). */
  text: string;
  /** Score per model, in `OutcomeSet.models` order; NaN = unknown (blank cell), never "wrong". */
  scores: Float64Array;
  /** Cost in USD per model for this prompt; NaN = not in the data (see `applyPrices`). */
  costs: Float64Array;
  /** "file:line" of the row, for error messages. */
  where: string;
}

export interface OutcomeSet {
  models: string[];
  prompts: OutcomePrompt[];
  /** Where the costs came from: the data itself, a price list with token estimates, or nowhere yet. */
  costSource: "data" | "prices" | "none";
  /** Human-readable notes about the loading (skipped columns, estimates used). */
  notes: string[];
}

/** Mean of the known values in one model column; NaN when none are known. */
export function columnMean(set: OutcomeSet, model: number, field: "scores" | "costs"): number {
  let sum = 0;
  let n = 0;
  for (const p of set.prompts) {
    const v = p[field][model];
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}

/** Model indices ordered from cheapest to dearest by mean cost per prompt (ties: column order). */
export function modelsByCost(set: OutcomeSet): number[] {
  const mean = set.models.map((_, m) => columnMean(set, m, "costs"));
  return set.models.map((_, m) => m).sort((a, b) => mean[a] - mean[b] || a - b);
}

/** The model with the highest mean score (ties: the cheaper one). The "strong" model of RouteLLM's metrics. */
export function bestModel(set: OutcomeSet): number {
  const order = modelsByCost(set);
  let best = order[0];
  let bestScore = -Infinity;
  for (const m of order) {
    const s = columnMean(set, m, "scores");
    if (s > bestScore) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** Whether every model's score is known for the prompt (NaN: unknown). */
export function hasEveryScore(p: OutcomePrompt): boolean {
  return p.scores.every((s) => !Number.isNaN(s));
}

/** Keeps only prompts whose every score is known (used for test splits, so every router is judged on the same rows). */
export function completeRows(set: OutcomeSet): OutcomeSet {
  const prompts = set.prompts.filter(hasEveryScore);
  const dropped = set.prompts.length - prompts.length;
  const notes = dropped > 0 ? [...set.notes, `${dropped} prompt(s) with a blank score left out of evaluation`] : set.notes;
  return { ...set, prompts, notes };
}
