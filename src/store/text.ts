/**
 * @module How a query text is kept in the decision log: at most `maxChars` UTF-16 code units of it, made
 * well-formed (a lone surrogate becomes U+FFFD, so SQLite only ever gets valid UTF-8), plus the SHA-256
 * and the length of the whole text as received.
 */
import { sha256 } from "../common/hash.js";
import type { TextMode } from "./types.js";

/** What the router reads of a query (Router's default maxChars); more is not worth storing. */
export const DEFAULT_MAX_TEXT_CHARS = 4000;

/** The values of the text, text_hash and text_length columns. */
export interface KeptText {
  text: string | null;
  hash: string | null;
  /** The whole text's length in UTF-16 code units (JavaScript's string length). */
  length: number | null;
}

/** ES2024's String methods: Node 20 has them, the project's TypeScript lib (ES2023) does not declare them. */
type Es2024String = string & { isWellFormed(): boolean; toWellFormed(): string };

function wellFormed(text: string): string {
  const s = text as Es2024String;
  return s.isWellFormed() ? text : s.toWellFormed();
}

/** `maxChars` code units at most, one fewer when the cut would split a surrogate pair. */
function cut(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars;
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  // A copy, not a slice: a V8 slice keeps the whole original alive while the row waits in the queue.
  // (Encoding to UTF-8 and back also turns lone surrogates into U+FFFD, like toWellFormed.)
  return Buffer.from(text.slice(0, end), "utf8").toString("utf8");
}

/**
 * The columns for one text. The hash is over the whole text as UTF-8, where Node already encodes a lone
 * surrogate as U+FFFD: it equals the hash of the well-formed text, and of the same text logged before.
 */
export function keepText(text: string, mode: TextMode, maxChars: number): KeptText {
  if (typeof text !== "string") throw new TypeError(`query text must be a string, got ${typeof text}`);
  if (mode === "redact") return { text: null, hash: null, length: null };
  return {
    text: mode === "store" ? wellFormed(cut(text, maxChars)) : null,
    hash: sha256(text),
    length: text.length,
  };
}
