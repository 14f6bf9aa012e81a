/**
 * @module Outcomes learned in production: per-model scores the decision log holds for each logged query
 * (a quality gate's pass or fail, thumbs up/down, an explicit 0..1 score), as outcome prompts an outcome
 * model can be retrained on. A query's other models stay unknown (NaN), which the estimators skip.
 */
import type { LoggedDecision } from "../store/index.js";
import { lastQuestion } from "./prompt.js";
import type { OutcomePrompt } from "./set.js";

export interface LoggedOutcomes {
  prompts: OutcomePrompt[];
  /** Outcomes read (one per request and model: the latest), and those skipped with why. */
  outcomes: number;
  skipped: { noText: number; unknownModel: number };
}

/** The score one feedback row gives its model, or undefined when it says nothing about quality. */
function scoreOf(f: LoggedDecision["feedback"][number]): number | undefined {
  if (f.kind === "score" && f.score !== null) return f.score;
  if (f.kind === "thumbs" && f.thumbs !== null) return f.thumbs === 1 ? 1 : 0;
  return undefined;
}

/**
 * One outcome prompt per logged decision with at least one scored model among `models`. Costs: the
 * model's logged call cost when the proxy recorded one, else its mean cost per prompt (`meanCost`).
 */
export function loggedOutcomes(rows: Iterable<LoggedDecision>, models: readonly string[], meanCost: readonly number[], lastQuestionOnly: boolean): LoggedOutcomes {
  const index = new Map(models.map((m, i) => [m, i]));
  const prompts: OutcomePrompt[] = [];
  const skipped = { noText: 0, unknownModel: 0 };
  let outcomes = 0;
  for (const d of rows) {
    const scores = new Float64Array(models.length).fill(Number.NaN);
    const costs = Float64Array.from(meanCost);
    let known = false;
    // Feedback comes in id order, so a later verdict on the same model replaces an earlier one.
    for (const f of d.feedback) {
      const m = f.finalModel === null ? undefined : index.get(f.finalModel);
      if (f.kind === "outcome" && m !== undefined && f.costUsd !== null) costs[m] = f.costUsd;
      const s = scoreOf(f);
      if (s === undefined) continue;
      if (m === undefined) {
        skipped.unknownModel++;
        continue;
      }
      scores[m] = s;
      known = true;
    }
    if (!known) continue;
    if (d.text === null || d.text.trim() === "") {
      skipped.noText++;
      continue;
    }
    outcomes += scores.filter((s) => !Number.isNaN(s)).length;
    prompts.push({ id: `log:${d.requestId}`, text: lastQuestionOnly ? lastQuestion(d.text) : d.text, scores, costs, where: `decision log, request ${d.requestId}` });
  }
  return { prompts, outcomes, skipped };
}
