/** @module Exporting logged decisions as JSON lines or CSV (with a header), respecting the stream's backpressure. */
import { TriageError } from "../common/errors.js";
import type { LoggedDecision } from "./types.js";

export type ExportFormat = "jsonl" | "csv";

/** CSV columns, in order; nested values (scores, tags, dial, feedback) are JSON inside one cell. */
const CSV_COLUMNS: Array<[string, (d: LoggedDecision) => string | number | boolean | null]> = [
  ["id", (d) => d.id],
  ["ts", (d) => d.ts],
  ["time", (d) => new Date(d.ts).toISOString()],
  ["request_id", (d) => d.requestId],
  ["model_version", (d) => d.modelVersion],
  ["text", (d) => d.text],
  ["text_hash", (d) => d.textHash],
  ["text_length", (d) => d.textLength],
  ["label", (d) => d.label],
  ["model_label", (d) => d.modelLabel],
  ["confidence", (d) => d.confidence],
  ["margin", (d) => d.margin],
  ["decided_by", (d) => d.decidedBy],
  ["stage", (d) => d.stage],
  ["low_confidence", (d) => d.lowConfidence],
  ["fallback_used", (d) => d.fallbackUsed],
  ["fallback_label", (d) => d.fallbackLabel],
  ["fallback_error", (d) => d.fallbackError],
  ["fallback_latency_ms", (d) => d.fallbackLatencyMs],
  ["latency_ms", (d) => d.latencyMs],
  ["scores", (d) => JSON.stringify(d.scores)],
  ["tags", (d) => (d.tags ? JSON.stringify(d.tags) : null)],
  ["conversation", (d) => d.conversation],
  ["sticky", (d) => d.sticky],
  ["dial", (d) => (d.dial ? JSON.stringify(d.dial) : null)],
  ["feedback", (d) => (d.feedback.length ? JSON.stringify(d.feedback) : null)],
];

export function csvHeader(): string {
  return `${CSV_COLUMNS.map(([name]) => name).join(",")}\r\n`;
}

/**
 * RFC 4180: quote a cell holding a comma, quote, CR or LF; double inner quotes. null is an empty cell.
 * Logged texts come from whoever calls the proxy: a text cell starting with = + - @ or a tab/CR gets a
 * leading ' so a spreadsheet shows it instead of running it as a formula (OWASP's CSV-injection advice).
 */
export function csvLine(d: LoggedDecision): string {
  return `${CSV_COLUMNS.map(([, get]) => csvCell(get(d))).join(",")}\r\n`;
}

function csvCell(value: string | number | boolean | null): string {
  if (value === null) return "";
  let s = typeof value === "number" && !Number.isFinite(value) ? "" : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function jsonLine(d: LoggedDecision): string {
  return `${JSON.stringify(d)}\n`;
}

/** Writes and waits for 'drain' when the stream asks for it, so exporting a big log stays within memory. */
export function writeRespectingBackpressure(out: NodeJS.WritableStream, chunk: string): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off("error", onError);
      resolve();
    };
    const onError = (err: Error) => {
      out.off("drain", onDrain);
      reject(err);
    };
    out.once("drain", onDrain);
    out.once("error", onError);
  });
}

/** Writes `rows` to `out` in `format`; resolves to the number of rows written. */
export async function exportDecisions(rows: Iterable<LoggedDecision> | AsyncIterable<LoggedDecision>, format: ExportFormat, out: NodeJS.WritableStream): Promise<number> {
  if (format !== "jsonl" && format !== "csv") throw new TriageError(`export format: expected "jsonl" or "csv", got "${String(format)}"`);
  const toLine = format === "csv" ? csvLine : jsonLine;
  if (format === "csv") await writeRespectingBackpressure(out, csvHeader());
  let written = 0;
  for await (const row of rows) {
    await writeRespectingBackpressure(out, toLine(row));
    written++;
  }
  return written;
}
