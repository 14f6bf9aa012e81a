import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { DecisionLog, parseDurationMs } from "../../store/index.js";
import { positiveInt } from "../parse.js";

export function registerPrune(program: Command): void {
  program
    .command("prune")
    .description("delete old decisions (and their feedback) from a decision log: by age and/or keeping the newest N")
    .requiredOption("--log-db <file>", "decision log (SQLite)")
    .option("--older-than <duration>", "delete decisions older than this, e.g. 30d, 12h")
    .option("--max-rows <n>", "then keep only the newest N decisions", positiveInt)
    .action((opts: { logDb: string; olderThan?: string; maxRows?: number }) => {
      if (opts.olderThan === undefined && opts.maxRows === undefined) throw new TriageError("prune: give --older-than DURATION and/or --max-rows N");
      const log = DecisionLog.open(opts.logDb);
      try {
        const deleted = log.prune({
          ...(opts.olderThan !== undefined ? { olderThanMs: parseDurationMs(opts.olderThan, "--older-than") } : {}),
          ...(opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {}),
        });
        process.stdout.write(JSON.stringify({ deleted, remaining: log.count() }) + "\n");
      } finally {
        log.close();
      }
    });
}
