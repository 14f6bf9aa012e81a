/** Turning a stored prompt cell into the text the router should see. */

/**
 * RouterBench stores prompts as a Python list literal holding one string, e.g. `['What is...\nA) ...']`.
 * Returns the joined strings, or undefined when `cell` is not such a literal (then the cell is the prompt).
 */
export function parsePythonStringList(cell: string): string[] | undefined {
  const s = cell.trim();
  if (!s.startsWith("[") || !s.endsWith("]")) return undefined;
  const out: string[] = [];
  let i = 1;
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  skipSpace();
  while (i < s.length - 1) {
    const quote = s[i];
    if (quote !== "'" && quote !== '"') return undefined;
    i++;
    let value = "";
    for (;;) {
      if (i >= s.length - 1) return undefined;
      const c = s[i];
      if (c === quote) {
        i++;
        break;
      }
      if (c !== "\\") {
        value += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      i += 2;
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0" };
      if (e in simple) value += simple[e];
      else if (e === "x" || e === "u" || e === "U") {
        const len = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = s.slice(i, i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return undefined;
        value += String.fromCodePoint(parseInt(hex, 16));
        i += len;
      } else value += `\\${e}`; // Python keeps unknown escapes as written
    }
    out.push(value);
    skipSpace();
    if (s[i] === ",") {
      i++;
      skipSpace();
    }
  }
  return out.length > 0 ? out : undefined;
}

/** An answered few-shot example ends with "Answer:" then the answer on its own line, then a blank line. */
const ANSWERED_EXAMPLE = /Answer:[ \t]*\n[ \t]*[^\n]{1,40}\n\s*\n/g;

/**
 * Few-shot prompts (RouterBench ARC, Winogrande) repeat the same answered examples before the real
 * question; embedding all of it makes every prompt look alike. Keeps the text after the last answered example.
 */
export function lastQuestion(prompt: string): string {
  let end = -1;
  for (const m of prompt.matchAll(ANSWERED_EXAMPLE)) end = (m.index ?? 0) + m[0].length;
  if (end < 0) return prompt;
  const rest = prompt.slice(end).trim();
  return rest === "" ? prompt : rest;
}
