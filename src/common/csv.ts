import { parse as parseCsv } from "csv-parse/sync";
import { TriageError } from "./errors.js";

/** A CSV record with the line it starts on (a quoted cell may span several lines). */
export interface CsvRow {
  line: number;
  record: Record<string, string>;
}

/** Parses CSV with a header row; errors name the file. */
export function readCsvRows(path: string, content: string): CsvRow[] {
  try {
    const records = parseCsv(content, { columns: true, skip_empty_lines: true, bom: true, info: true, raw: true }) as {
      record: Record<string, string>;
      info: { lines: number };
      raw: string;
    }[];
    // info.lines is the record's last line; count back to its first.
    return records.map((r) => ({ line: r.info.lines - (r.raw.replace(/\r?\n$/, "").split("\n").length - 1), record: r.record }));
  } catch (err) {
    throw new TriageError(`${path}: invalid CSV: ${(err as Error).message}`, "E_DATA");
  }
}
