/**
 * @module
 * A synthetic decision log with the shape of real traffic, for the dashboard's benchmark (a million rows)
 * and its screenshots (a week of history before the live requests): decisions written through
 * DecisionLog.log, the real insert path, over a time span, with the chat proxy's feedback beside them (a
 * cost outcome for most requests, quality-gate escalations for a few) and caller tags. Deterministic for
 * a given seed, so runs compare.
 */
import Database from "better-sqlite3";
import { seededRandom } from "../../src/common/random.js";
import type { DecidedBy, Decision, Stage } from "../../src/router/types.js";
import { DecisionLog } from "../../src/store/index.js";

export const TIERS = ["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"] as const;
const MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-latest", "o1"];
const WORDS = "how do I write a summary of the quarterly report and explain why revenue fell in the north region compared to last year please prove that".split(" ");

export interface GenerateOptions {
  n: number;
  /** The decisions' time span, ms since epoch (default: the 30 days before now). */
  since?: number;
  until?: number;
  seed?: number;
  /** Share of decisions with a cost outcome row (default 0.6). */
  outcomes?: number;
  /** Query texts to draw from (default: word salad, numbered so none repeats). */
  texts?: readonly { text: string; label: string }[];
  /** Model versions the decisions name (default bench-v1 / bench-v2). */
  versions?: readonly string[];
  /** Busier in the UTC afternoon than at night (some decisions are left out to make the shape). */
  rhythm?: boolean;
  onProgress?: (written: number) => void;
}

/** Appends `n` decisions (and their feedback) to the log at `path` (created if new). */
export function generateLog(path: string, options: GenerateOptions): { decisions: number; feedback: number } {
  const rand = seededRandom(options.seed ?? 7);
  const until = options.until ?? Date.now();
  const since = options.since ?? until - 30 * 86_400_000;
  const step = (until - since) / options.n;
  const versions = options.versions ?? ["bench-v1", "bench-v2"];
  const log = DecisionLog.open(path, { batchSize: 5000, flushIntervalMs: 1000 });
  const fb: Array<[string, number, string, string | null, number | null, number | null, string | null]> = [];
  const ids: string[] = [];
  const stamps: number[] = [];
  const prefix = `gen-${Math.floor(rand() * 1e9).toString(36)}`;
  try {
    for (let i = 0; i < options.n; i++) {
      const sample = options.texts?.[Math.floor(rand() * options.texts.length)];
      const r = rand();
      // A daily rhythm (busier in the afternoon, UTC), so the charts look like traffic.
      const ts = Math.round(since + i * step);
      const hour = new Date(ts).getUTCHours();
      if (options.rhythm && rand() > 0.35 + 0.65 * Math.sin((Math.PI * hour) / 24) ** 2) continue;
      const tier = sample ? TIERS.indexOf(sample.label as (typeof TIERS)[number]) : r < 0.45 ? 0 : r < 0.75 ? 1 : r < 0.93 ? 2 : 3;
      const stageR = rand();
      const stage: Stage = stageR < 0.03 ? "rule" : stageR < 0.1 ? "cache" : stageR < 0.85 ? "static" : "full";
      const low = stage !== "rule" && rand() < 0.07;
      const fallback = low && rand() < 0.5;
      const decidedBy: DecidedBy = stage === "rule" ? "rule" : !low ? "model" : fallback ? (rand() < 0.9 ? "fallback" : "fallback-failed") : "escalate";
      const latency = stage === "full" ? 2 + rand() * 6 : stage === "static" ? 0.2 + rand() * 0.8 : 0.05 + rand() * 0.1;
      // A third of the low-confidence ones are novel: a clear margin, but far from every training example.
      const margin = low ? (stage === "full" && rand() < 0.33 ? 0.3 + rand() * 0.5 : rand() * 0.05) : 0.2 + rand() * 0.8;
      const scores: Record<string, number> = {};
      for (const [k, t] of TIERS.entries()) scores[t] = k === tier ? 0.5 + margin / 2 : (0.5 - margin / 2) / 3;
      const requestId = `${prefix}-${i.toString(36).padStart(7, "0")}`;
      const d: Decision = {
        requestId,
        label: TIERS[tier],
        modelLabel: TIERS[tier],
        confidence: scores[TIERS[tier]],
        margin,
        scores,
        neighbours: [],
        decidedBy,
        lowConfidence: low,
        stage,
        latencyMs: latency + (fallback ? 300 + rand() * 400 : 0),
        modelVersion: versions[rand() < 0.8 ? versions.length - 1 : 0],
        ...(fallback ? { fallback: { label: decidedBy === "fallback" ? TIERS[Math.min(3, tier + 1)] : null, latencyMs: 300 + rand() * 400 } } : {}),
      };
      const text = sample ? sample.text : `${Array.from({ length: 8 + Math.floor(rand() * 14) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ")} #${i}`;
      const tags = {
        feature: ["search", "chat", "summarise", "support"][Math.floor(rand() * 4)],
        team: ["growth", "core"][Math.floor(rand() * 2)],
        user: `u${Math.floor(rand() * 500)}`,
      };
      log.log(d, text, tags);
      ids.push(requestId);
      stamps.push(ts);
      if (rand() < (options.outcomes ?? 0.6)) {
        const tin = 50 + Math.floor(rand() * 400);
        const tout = 20 + Math.floor(rand() * 600);
        fb.push([requestId, ts + 900, "outcome", MODELS[tier], tin, tout, "chat completion"]);
      }
      if (tier < 3 && rand() < 0.04) fb.push([requestId, ts + 800, "escalated", MODELS[tier + 1], null, null, `${TIERS[tier]} -> ${TIERS[tier + 1]}: too_short: answer too short`]);
      if (ids.length % 100_000 === 0) {
        log.flush();
        options.onProgress?.(ids.length);
      }
    }
    log.flush();
  } finally {
    log.close();
  }
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    // log() stamps Date.now(); give this batch's rows their times in the span, in id order, as a long-running server would have.
    const first = (db.prepare("SELECT id FROM decisions WHERE request_id = ?").get(ids[0]) as { id: number }).id;
    const stamp = db.prepare("UPDATE decisions SET ts = ? WHERE id = ?");
    db.transaction(() => {
      for (let k = 0; k < stamps.length; k++) stamp.run(stamps[k], first + k);
    })();
    const insert = db.prepare("INSERT INTO feedback (request_id, ts, kind, final_model, tokens_in, tokens_out, note) VALUES (?, ?, ?, ?, ?, ?, ?)");
    db.transaction(() => {
      for (const row of fb) insert.run(...row);
    })();
  } finally {
    db.close();
  }
  return { decisions: ids.length, feedback: fb.length };
}
