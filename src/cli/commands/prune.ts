import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { openDecisionLog, parseDurationMs } from "../../store/index.js";
import { logDbOption } from "../log-db.js";
import { positiveInt } from "../parse.js";

export function registerPrune(program: Command): void {
  program
    .command("prune")
    .description("delete old decisions (and their feedback) from a decision log: by age and/or keeping the newest N")
    .addOption(logDbOption(""))
    .option("--older-than <duration>", "delete decisions older than this, e.g. 30d, 12h")
    .option("--max-rows <n>", "then keep only the newest N decisions", positiveInt)
    .action(async (opts: { logDb: string; olderThan?: string; maxRows?: number }) => {
      if (opts.olderThan === undefined && opts.maxRows === undefined) throw new TriageError("prune: give --older-than DURATION and/or --max-rows N");
      const log = await openDecisionLog(opts.logDb);
      try {
        const deleted = await log.prune({
          ...(opts.olderThan !== undefined ? { olderThanMs: parseDurationMs(opts.olderThan, "--older-than") } : {}),
          ...(opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {}),
        });
        process.stdout.write(JSON.stringify({ deleted, remaining: await log.count() }) + "\n");
      } finally {
        await log.close();
      }
    });
}
