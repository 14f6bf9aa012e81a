/**
 * @module
 * JSON Lines: one JSON object per line, blank lines skipped. The one reader of training data, outcome
 * data, artifact examples and query files, so a line number means the same thing in every error.
 */
import { TriageError } from "./errors.js";
import { readTextFile } from "./text-file.js";

/** Why a line is not a row: not JSON at all, or JSON but not an object. */
export interface JsonlProblem {
  kind: "json" | "not-object";
  /** "invalid JSON (...)" or "not a JSON object". */
  message: string;
}

/** One non-blank line: its number (1-based) and either its object or the problem with it. */
export type JsonlLine = { line: number; value: Record<string, unknown>; problem?: undefined } | { line: number; value?: undefined; problem: JsonlProblem };

/** Parses every non-blank line; bad lines are returned with their problem, so callers can collect or throw. */
export function parseJsonl(content: string): JsonlLine[] {
  const out: JsonlLine[] = [];
  content.split(/\r?\n/).forEach((text, i) => {
    if (text.trim() === "") return;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      out.push({ line, problem: { kind: "json", message: `invalid JSON (${(err as Error).message})` } });
      return;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) out.push({ line, problem: { kind: "not-object", message: "not a JSON object" } });
    else out.push({ line, value: value as Record<string, unknown> });
  });
  return out;
}

/**
 * Reads a JSONL file whose every line must be an object; the first bad line is an error naming file:line.
 * Read as every user file is (readTextFile): a BOM is dropped and bytes that are not UTF-8 are an error.
 */
export function readJsonlFile(path: string): Record<string, unknown>[] {
  return parseJsonl(readTextFile(path)).map((l) => {
    if (l.problem) throw new TriageError(`${path}:${l.line}: ${l.problem.message}`, "E_DATA");
    return l.value;
  });
}
