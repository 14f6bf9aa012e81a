import type { Command } from "commander";
import { loadRoutesConfig } from "../../config/load.js";
import { DecisionLog, formatStats, parseTimeBound, type PriceTable } from "../../store/index.js";

export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("summarise a decision log: tier distribution, low-confidence/fallback/escalation rates, latency p50/p95 by label, cost and savings")
    .requiredOption("--log-db <file>", "decision log (SQLite)")
    .option("--config <file>", "tiers config whose prices (per label and per model) turn tokens into cost")
    .option("--since <when>", "from this time: a duration ago (24h, 7d), an ISO date or epoch ms")
    .option("--until <when>", "before this time")
    .option("--json", "print the statistics as one JSON object")
    .action((opts: { logDb: string; config?: string; since?: string; until?: string; json?: boolean }) => {
      const prices: PriceTable = {};
      if (opts.config)
        for (const l of loadRoutesConfig(opts.config).labels)
          if (l.price) {
            prices[l.name] = l.price;
            if (l.model) prices[l.model] = l.price;
          }
      const log = DecisionLog.open(opts.logDb, { readonly: true });
      try {
        const stats = log.stats({
          ...(opts.config ? { prices } : {}),
          ...(opts.since !== undefined ? { since: parseTimeBound(opts.since, "--since") } : {}),
          ...(opts.until !== undefined ? { until: parseTimeBound(opts.until, "--until") } : {}),
        });
        process.stdout.write((opts.json ? JSON.stringify(stats) : formatStats(stats)) + "\n");
      } finally {
        log.close();
      }
    });
}
