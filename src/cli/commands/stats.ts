import type { Command } from "commander";
import { loadRoutesConfig } from "../../config/load.js";
import { priceTable } from "../../config/price.js";
import { formatStats, openDecisionLog, parseTimeBound } from "../../store/index.js";
import { logDbOption } from "../log-db.js";

export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("summarise a decision log: tier distribution, low-confidence/fallback/escalation rates, latency p50/p95 by label, cost and savings")
    .addOption(logDbOption(""))
    .option("--config <file>", "tiers config whose prices (per label and per model) turn tokens into cost")
    .option("--since <when>", "from this time: a duration ago (24h, 7d), an ISO date or epoch ms")
    .option("--until <when>", "before this time")
    .option("--json", "print the statistics as one JSON object")
    .action(async (opts: { logDb: string; config?: string; since?: string; until?: string; json?: boolean }) => {
      const prices = opts.config ? priceTable(loadRoutesConfig(opts.config).labels) : {};
      const log = await openDecisionLog(opts.logDb, { readonly: true });
      try {
        const stats = await log.stats({
          ...(opts.config ? { prices } : {}),
          ...(opts.since !== undefined ? { since: parseTimeBound(opts.since, "--since") } : {}),
          ...(opts.until !== undefined ? { until: parseTimeBound(opts.until, "--until") } : {}),
        });
        process.stdout.write((opts.json ? JSON.stringify(stats) : formatStats(stats)) + "\n");
      } finally {
        await log.close();
      }
    });
}
