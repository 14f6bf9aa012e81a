/**
 * @module
 * Reads the text files a user hands to triage (training and eval data, configs, outcome data):
 * a leading UTF-8 byte-order mark is dropped (editors on Windows add one), and bytes that are not
 * UTF-8 are an error naming `file:line` instead of turning silently into U+FFFD.
 */
import { readFileSync } from "node:fs";
import { TriageError } from "./errors.js";

const BOM = "\uFEFF";
const NEWLINE = 0x0a;

/** Reads `path` ("-" is stdin) as UTF-8 text without its BOM; errors name the file (and line). */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path === "-" ? 0 : path);
  } catch (err) {
    throw new TriageError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeText(bytes, path);
}

/** Decodes UTF-8 strictly; the BOM is dropped (TextDecoder's default), bad bytes name `where:line`. */
export function decodeText(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TriageError(`${where}:${badLine(bytes)}: not valid UTF-8 (save the file as UTF-8)`, "E_DATA");
  }
}

/** Text already decoded elsewhere (stdin read by a caller, a line from readline) loses its BOM here. */
export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** The 1-based line of the first invalid sequence: a newline byte never sits inside a UTF-8 sequence, so lines decode alone. */
function badLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    try {
      decoder.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    line++;
    start = end + 1;
  }
  return line;
}
