/**
 * How big the decision log gets: writes decisions the way `serve` does (default options: batched, texts
 * capped at 4,000 characters) into a real SQLite file, closes it (folding the WAL in) and scales the file
 * size to a million decisions.
 *   npx tsx scripts/log-size.ts [--n 100000]
 * Scenarios: typical short queries (data/tiers texts, numbered), the same with one cost-outcome feedback
 * row each (what the chat proxy adds), and texts at the cap: ASCII (1 byte per character) and the worst
 * case, characters that take 3 bytes in UTF-8 (CJK, for example).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Decision } from "../src/router/types.js";
import { DEFAULT_MAX_TEXT_CHARS, DecisionLog } from "../src/store/index.js";

const root = join(import.meta.dirname, "..");
const nArg = process.argv.indexOf("--n");
const N = nArg > 0 ? Number(process.argv[nArg + 1]) : 100_000;
const dir = mkdtempSync(join(tmpdir(), "triage-log-size-"));
const labels = ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"];
const tierTexts = ["train", "test"].flatMap((f) =>
  readFileSync(join(root, "data/tiers", `${f}.jsonl`), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text),
);

/** A decision as the server logs it: a UUID request id, four tier scores, a manifest-style version. */
function decision(i: number): Decision {
  const label = labels[i % 4];
  const scores = Object.fromEntries(labels.map((l, k) => [l, l === label ? 0.7123456 : 0.0958848 + k / 1000]));
  return {
    requestId: randomUUID(),
    label,
    confidence: 0.7123456,
    margin: 0.4123456,
    scores,
    modelLabel: label,
    neighbours: [],
    decidedBy: "model",
    lowConfidence: i % 10 === 0,
    stage: i % 3 === 0 ? "full" : "static",
    latencyMs: 1.234567,
    modelVersion: "2026-05-01T10:00:00.000Z-1a2b3c4d",
  };
}

function measure(name: string, n: number, text: (i: number) => string, withOutcome = false): void {
  const path = join(dir, `${name.replace(/\W+/g, "-")}.db`);
  const log = DecisionLog.open(path, { batchSize: 1000, flushIntervalMs: 600_000 });
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const d = decision(i);
    const t = text(i);
    chars += Math.min(t.length, DEFAULT_MAX_TEXT_CHARS);
    log.log(d, t);
    if (withOutcome) log.feedback(d.requestId, { kind: "outcome", finalModel: "gpt-4o-mini", tokensIn: 512, tokensOut: 128, costUsd: 0.000154 });
    if (i % 1000 === 999) log.flush();
  }
  log.close();
  const bytes = statSync(path).size;
  const perRow = bytes / n;
  console.log(
    `${name.padEnd(44)} ${String(n).padStart(7)} rows  avg ${(chars / n).toFixed(0).padStart(5)} chars stored  ` +
      `${perRow.toFixed(0).padStart(6)} B/decision  ${((perRow * 1e6) / 2 ** 20).toFixed(0).padStart(6)} MiB per million`,
  );
}

try {
  console.log(`decision log size, default options (text cap ${DEFAULT_MAX_TEXT_CHARS} characters), file size after close`);
  const typical = (i: number) => `${tierTexts[i % tierTexts.length]} (${i})`;
  measure("typical short queries (/v1/route)", N, typical);
  measure("typical + one outcome row (chat proxy)", N, typical, true);
  const atCap = Math.max(1000, Math.round(N / 5));
  // Every text longer than the cap (the log keeps 4,000 characters of each), all different.
  measure("at the cap, ASCII (1 MB texts sent)", atCap, (i) => `${i} `.padEnd(1_000_000, "lorem ipsum "));
  measure("at the cap, 3-byte characters (worst case)", atCap, (i) => `${i} `.padEnd(8000, "漢字"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
