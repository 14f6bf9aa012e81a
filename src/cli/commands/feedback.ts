import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { DecisionLog, type FeedbackInput } from "../../store/index.js";
import { nonNegativeInt, nonNegativeNumber } from "../parse.js";

interface FeedbackOptions {
  logDb: string;
  requestId: string;
  label?: string;
  thumbs?: "up" | "down";
  escalated?: boolean;
  finalModel?: string;
  tokensIn?: number;
  tokensOut?: number;
  cost?: number;
  note?: string;
}

export function registerFeedback(program: Command): void {
  program
    .command("feedback")
    .description("record what happened to a logged decision: a person's label, thumbs up/down, a quality-gate escalation, or the final model's tokens and cost")
    .requiredOption("--log-db <file>", "decision log (SQLite)")
    .requiredOption("--request-id <id>", "request id of the decision (printed by `triage route`)")
    .option("--label <label>", "the correct route according to a person (used by `triage retrain`, most trusted)")
    .option("--thumbs <up|down>", "the answer was good / bad")
    .option("--escalated", "a quality gate found the routed tier not good enough (retrain learns the next tier up)")
    .option("--final-model <name>", "the model that finally answered")
    .option("--tokens-in <n>", "prompt tokens of the final call", nonNegativeInt)
    .option("--tokens-out <n>", "completion tokens of the final call", nonNegativeInt)
    .option("--cost <usd>", "cost of the final call in USD", nonNegativeNumber)
    .option("--note <text>", "free text")
    .action((opts: FeedbackOptions) => {
      const kinds = [opts.label !== undefined, opts.thumbs !== undefined, opts.escalated === true].filter(Boolean).length;
      if (kinds > 1) throw new TriageError("feedback: give one of --label, --thumbs or --escalated per call");
      if (opts.thumbs !== undefined && opts.thumbs !== "up" && opts.thumbs !== "down") throw new TriageError(`--thumbs: expected up or down, got "${opts.thumbs}"`);
      const outcome = { finalModel: opts.finalModel, tokensIn: opts.tokensIn, tokensOut: opts.tokensOut, costUsd: opts.cost, note: opts.note };
      const hasOutcome = Object.values(outcome).some((v) => v !== undefined);
      if (kinds === 0 && !hasOutcome) throw new TriageError("feedback: nothing to record; give --label, --thumbs, --escalated or --final-model/--tokens-in/--tokens-out/--cost");
      const input: FeedbackInput = {
        kind: opts.label !== undefined ? "label" : opts.thumbs !== undefined ? "thumbs" : opts.escalated ? "escalated" : "outcome",
        ...(opts.label !== undefined ? { humanLabel: opts.label } : {}),
        ...(opts.thumbs !== undefined ? { thumbs: opts.thumbs === "up" ? 1 : -1 } : {}),
        ...Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)),
      };
      const log = DecisionLog.open(opts.logDb);
      try {
        const id = log.feedback(opts.requestId, input);
        process.stdout.write(JSON.stringify({ feedbackId: id, requestId: opts.requestId, ...input }) + "\n");
      } finally {
        log.close();
      }
    });
}
