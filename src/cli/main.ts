/**
 * @module The `triage` command line (cli/): one file per command under commands/, option parsing in parse.ts, tables
 * and progress in output.ts. A thin shell over the library: commands parse, call src/, print; nothing below
 * imports cli/.
 */

import { Command } from "commander";
import { TriageError } from "../common/errors.js";
import { registerBench } from "./commands/bench.js";
import { registerDashboard } from "./commands/dashboard.js";
import { registerEval } from "./commands/eval.js";
import { registerEvalRouting } from "./commands/eval-routing.js";
import { registerInfo } from "./commands/info.js";
import { registerModel } from "./commands/model.js";
import { registerRoute } from "./commands/route.js";
import { registerServe } from "./commands/serve.js";
import { registerTrain } from "./commands/train.js";
import { registerFeedback } from "./commands/feedback.js";
import { registerLogs } from "./commands/logs.js";
import { registerModels } from "./commands/models.js";
import { registerPrune } from "./commands/prune.js";
import { registerRetrain } from "./commands/retrain.js";
import { registerReview } from "./commands/review.js";
import { registerRollback } from "./commands/rollback.js";
import { registerStats } from "./commands/stats.js";
import { endQuietlyWhenStdoutCloses } from "./output.js";

const program = new Command().name("triage").description("Route each LLM query to the cheapest tier that can handle it, decided locally in milliseconds.").showHelpAfterError();

registerTrain(program);
registerRoute(program);
registerEval(program);
registerEvalRouting(program);
registerBench(program);
registerInfo(program);
registerModel(program);
registerServe(program);
registerLogs(program);
registerStats(program);
registerFeedback(program);
registerPrune(program);
registerRetrain(program);
registerRollback(program);
registerModels(program);
registerReview(program);
registerDashboard(program);

endQuietlyWhenStdoutCloses();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof TriageError) {
    process.stderr.write(`triage: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
