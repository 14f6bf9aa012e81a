import { existsSync } from "node:fs";
import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { type FeedbackRequest, OUT_OF_SCOPE, recordFeedback } from "../../retrain/review/feedback.js";
import { isPostgresUrl, openDecisionLog } from "../../store/index.js";
import { logDbOption } from "../log-db.js";
import { nonNegativeInt, nonNegativeNumber, unitInterval } from "../parse.js";

/** The command's flags: the log, plus what the shared feedback rules take. */
interface FeedbackOptions extends FeedbackRequest {
  logDb: string;
}

export function registerFeedback(program: Command): void {
  program
    .command("feedback")
    .description(
      "record what happened to a logged decision: a person's label, thumbs up/down, a score for the model that answered, a quality-gate escalation, or the final model's tokens and cost",
    )
    .addOption(logDbOption(""))
    .requiredOption("--request-id <id>", "request id of the decision (printed by `triage route`), or a prefix of it that matches one decision")
    .option("--label <label>", `the correct route according to a person, one of the model's labels, or ${OUT_OF_SCOPE} when none fits (used by \`triage retrain\`, most trusted)`)
    .option("--thumbs <up|down>", "the answer was good / bad (an outcome of the model that answered, for outcome models' retrain)")
    .option("--score <x>", "how well the model that answered did, 0 (wrong) to 1 (right); --final-model names another", unitInterval)
    .option("--escalated", "a quality gate found the routed tier not good enough (retrain learns the next tier up)")
    .option("--final-model <name>", "the model that finally answered")
    .option("--tokens-in <n>", "prompt tokens of the final call", nonNegativeInt)
    .option("--tokens-out <n>", "completion tokens of the final call", nonNegativeInt)
    .option("--cost <usd>", "cost of the final call in USD", nonNegativeNumber)
    .option("--note <text>", "free text")
    .action(async (opts: FeedbackOptions) => {
      // Feedback is about logged decisions: a mistyped path must not create an empty log.
      if (isPostgresUrl(opts.logDb)) await (await openDecisionLog(opts.logDb, { readonly: true })).close();
      else if (!existsSync(opts.logDb)) throw new TriageError(`${opts.logDb}: no decision log there`);
      const log = await openDecisionLog(opts.logDb);
      try {
        const stored = await recordFeedback(log, { ...opts });
        process.stdout.write(JSON.stringify(stored) + "\n");
      } finally {
        await log.close();
      }
    });
}
