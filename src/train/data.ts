import { readCsvRows } from "../common/csv.js";
import { TriageError } from "../common/errors.js";
import { readTextFile, stripBom } from "../common/text-file.js";
import { parseJsonl } from "../common/jsonl.js";

export interface Example {
  text: string;
  label: string;
}

export interface DataIssue {
  /** "file:line" of the offending row. */
  where: string;
  message: string;
}

export interface LoadedData {
  examples: Example[];
  /** Rows dropped because the same (text, label) appeared before. */
  duplicates: number;
  /** Same text seen with different labels: kept once (first label), reported here. */
  conflicts: DataIssue[];
  /** Rows rejected (bad text or label). Loading fails unless `allowInvalid`. */
  invalid: DataIssue[];
}

export interface LoadOptions {
  textField?: string;
  labelField?: string;
  /** Labels a row may carry (from the routes config); others are rejected. */
  allowedLabels?: readonly string[];
  /** Collect bad rows instead of failing on the first batch of them. */
  allowInvalid?: boolean;
  /** For stdin ("-"): the content, and the format to read it as. */
  content?: string;
  format?: "jsonl" | "csv";
}

interface RawRow {
  line: number;
  record: Record<string, unknown> | null;
  parseError?: string;
}

/** Loads labelled examples from JSONL or CSV, validating every row and naming file:line on problems. */
export function loadExamples(path: string, options: LoadOptions = {}): LoadedData {
  const textField = options.textField ?? "text";
  const labelField = options.labelField ?? "label";
  const content = options.content !== undefined ? stripBom(options.content) : readTextFile(path);
  const format = options.format ?? (path.toLowerCase().endsWith(".csv") ? "csv" : "jsonl");
  const rows: RawRow[] = format === "csv" ? readCsvRows(path, content) : readJsonl(content);
  const allowed = options.allowedLabels ? new Set(options.allowedLabels) : undefined;

  const result: LoadedData = { examples: [], duplicates: 0, conflicts: [], invalid: [] };
  const seen = new Map<string, { label: string; where: string }>();
  for (const row of rows) {
    const where = `${path}:${row.line}`;
    const bad = (message: string) => result.invalid.push({ where, message });
    if (row.parseError || !row.record) {
      bad(row.parseError ?? "not an object");
      continue;
    }
    const text = row.record[textField];
    const label = row.record[labelField];
    if (typeof text !== "string") {
      bad(text === undefined ? `missing field "${textField}"` : `field "${textField}" is not a string`);
      continue;
    }
    if (text.trim() === "") {
      bad(`field "${textField}" is empty`);
      continue;
    }
    if (label === undefined || label === null || label === "") {
      bad(`missing field "${labelField}"`);
      continue;
    }
    if (typeof label !== "string" && typeof label !== "number") {
      bad(`field "${labelField}" is not a string`);
      continue;
    }
    const labelText = String(label);
    if (allowed && !allowed.has(labelText)) {
      bad(`label "${labelText}" is not in the config (${[...allowed].join(", ")})`);
      continue;
    }
    const key = text.trim();
    const prev = seen.get(key);
    if (prev) {
      if (prev.label === labelText) result.duplicates++;
      else result.conflicts.push({ where, message: `same text as ${prev.where} but label "${labelText}" vs "${prev.label}"` });
      continue;
    }
    seen.set(key, { label: labelText, where });
    result.examples.push({ text, label: labelText });
  }
  if (result.invalid.length > 0 && !options.allowInvalid) {
    const shown = result.invalid.slice(0, 10).map((i) => `  ${i.where}: ${i.message}`);
    const more = result.invalid.length > 10 ? `\n  ... and ${result.invalid.length - 10} more` : "";
    throw new TriageError(`${result.invalid.length} invalid row(s):\n${shown.join("\n")}${more}`, "E_DATA");
  }
  return result;
}

function readJsonl(content: string): RawRow[] {
  return parseJsonl(content).map((l) => (l.problem ? { line: l.line, record: null, parseError: l.problem.message } : { line: l.line, record: l.value }));
}

/** Counts per label, in first-seen order. */
export function labelCounts(examples: readonly Example[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  return counts;
}

/** Training separates labels, so data with one label is an error naming its source (before any config is built from it). */
export function requireTwoLabels(counts: ReadonlyMap<string, number>, source: string): void {
  if (counts.size >= 2) return;
  const [label, n] = [...counts][0] ?? ["", 0];
  const which = n === 1 ? "its one example is" : `all ${n} are`;
  throw new TriageError(`${source}: training needs examples of at least two labels; ${which} labelled "${label}"`, "E_DATA");
}
