import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { openDecisionLog, parseTimeBound, type DecisionFilters } from "../../store/index.js";
import { logDbOption } from "../log-db.js";
import { table } from "../output.js";
import { positiveInt } from "../parse.js";

interface LogsOptions {
  logDb: string;
  json?: boolean;
  format?: string;
  since?: string;
  until?: string;
  label?: string;
  lowConfidence?: boolean;
  fallback?: boolean;
  hasFeedback?: boolean;
  limit?: number;
}

/** The filter flags shared by `logs` (and usable by other log readers). */
export function filtersFrom(opts: Omit<LogsOptions, "logDb" | "json" | "format">): DecisionFilters {
  return {
    ...(opts.since !== undefined ? { since: parseTimeBound(opts.since, "--since") } : {}),
    ...(opts.until !== undefined ? { until: parseTimeBound(opts.until, "--until") } : {}),
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...(opts.lowConfidence ? { lowConfidence: true } : {}),
    ...(opts.fallback ? { fallback: true } : {}),
    ...(opts.hasFeedback ? { hasFeedback: true } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
  };
}

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("query and export logged decisions (oldest first): a table, JSON lines (--json) or CSV (--format csv)")
    .addOption(logDbOption("written by `triage serve` or `triage route --log-db`"))
    .option("--json", "print one JSON object per decision (same as --format jsonl)")
    .option("--format <fmt>", "jsonl | csv")
    .option("--since <when>", "from this time: a duration ago (24h, 7d), an ISO date or epoch ms")
    .option("--until <when>", "before this time (same forms as --since)")
    .option("--label <label>", "only decisions routed to this label")
    .option("--low-confidence", "only decisions below the calibrated margin")
    .option("--fallback", "only decisions where the LLM classifier was asked")
    .option("--has-feedback", "only decisions with feedback")
    .option("--limit <n>", "at most this many decisions", positiveInt)
    .action(async (opts: LogsOptions) => {
      const format = opts.json ? "jsonl" : opts.format;
      if (format !== undefined && format !== "jsonl" && format !== "csv") throw new TriageError(`--format: expected jsonl or csv, got "${format}"`);
      const log = await openDecisionLog(opts.logDb, { readonly: true });
      try {
        const filters = filtersFrom(opts);
        if (format) {
          await log.export(filters, format, process.stdout);
          return;
        }
        const rows: string[][] = [["time", "request id", "label", "by", "margin", "feedback", "text"]];
        for await (const d of log.rows(filters))
          rows.push([
            new Date(d.ts).toISOString().replace("T", " ").slice(0, 19),
            d.requestId,
            d.label,
            d.decidedBy + (d.fallbackLabel && d.fallbackLabel !== d.modelLabel ? ` (model: ${d.modelLabel})` : ""),
            d.margin.toFixed(3),
            d.feedback.map((f) => (f.kind === "label" ? `label=${f.humanLabel}` : f.kind === "thumbs" ? (f.thumbs === 1 ? "up" : "down") : f.kind)).join(","),
            preview(d.text ?? (d.textHash ? `sha256:${d.textHash.slice(0, 12)}` : "(redacted)")),
          ]);
        process.stdout.write(rows.length === 1 ? "no decisions match\n" : table(rows) + "\n");
      } finally {
        await log.close();
      }
    });
}

function preview(text: string): string {
  const one = text.replace(/\s+/g, " ");
  return one.length > 60 ? `${one.slice(0, 59)}…` : one;
}
