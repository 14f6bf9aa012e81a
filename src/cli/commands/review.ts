import type { Command } from "commander";
import { emitKeypressEvents } from "node:readline";
import { TriageError } from "../../common/errors.js";
import { CachedEncoder } from "../../encoders/cache.js";
import { DEFAULT_CACHE_PATH, encoderForArtifact } from "../../encoders/resolve.js";
import { resolveModelDir } from "../../model/registry.js";
import { buildReviewQueue, type ReviewItem } from "../../retrain/review/queue.js";
import { OUT_OF_SCOPE } from "../../retrain/review/feedback.js";
import { OUT_OF_SCOPE_KEY, ReviewSession, type LabelStore } from "../../retrain/review/session.js";
import { openDecisionLog, parseTimeBound, type DecisionStore } from "../../store/index.js";
import { logDbOption } from "../log-db.js";
import { readManifest } from "../../model/artifact.js";
import { positiveInt } from "../parse.js";
import { cutsOf, explain, type Cuts } from "../reason.js";

interface ReviewOptions {
  logDb: string;
  model: string;
  list?: boolean;
  json?: boolean;
  limit: number;
  similarity: number;
  since?: string;
}

export function registerReview(program: Command): void {
  program
    .command("review")
    .description(
      `active-learning queue: the logged queries whose label would teach the model most (low margin, fallback disagreement, rare labels; near-duplicates collapsed); label them in the terminal — one key per label, ${OUT_OF_SCOPE_KEY} = out of scope (none fits), s = skip, u = undo, q = quit — stored as feedback for the next retrain`,
    )
    .addOption(logDbOption(""))
    .requiredOption("--model <dir>", "model artifact or registry (labels, label frequencies, encoder)")
    .option("--list", "print the queue instead of labelling")
    .option("--json", "with --list: one JSON object per item")
    .option("--limit <n>", "queue length", positiveInt, 50)
    .option("--similarity <x>", "cosine similarity above which queries are near-duplicates", Number, 0.95)
    .option("--since <when>", "only decisions from this time (24h, 7d, ISO date)")
    .action(async (opts: ReviewOptions) => {
      const manifest = readManifest(resolveModelDir(opts.model));
      const encoder = new CachedEncoder(await encoderForArtifact(manifest.encoder), DEFAULT_CACHE_PATH);
      const log = await openDecisionLog(opts.logDb, { readonly: opts.list === true });
      try {
        const items = await buildReviewQueue(log, {
          encoder,
          perLabel: manifest.data.perLabel,
          limit: opts.limit,
          similarity: opts.similarity,
          filters: opts.since !== undefined ? { since: parseTimeBound(opts.since, "--since") } : {},
        });
        const cuts = cutsOf(manifest);
        if (opts.list) {
          for (const i of items) process.stdout.write((opts.json ? JSON.stringify({ ...i, reason: why(i, cuts) }) : listLine(i, cuts)) + "\n");
          return;
        }
        if (!process.stdin.isTTY) throw new TriageError("review: labelling needs a terminal; use --list --json to script it and `triage feedback --label` to store labels");
        await label(items, manifest.labels, log, cuts);
      } finally {
        await log.close();
        await encoder.close();
      }
    });
}

function listLine(i: ReviewItem, cuts: Cuts): string {
  const head = [
    i.score.toFixed(2),
    i.requestId,
    `routed ${i.label}${i.duplicates.length ? ` (+${i.duplicates.length} similar)` : ""}`,
    ...(i.reasons.length ? [i.reasons.join("; ")] : []),
  ];
  return `${head.join("  ")}\n      ${i.text}\n      why: ${why(i, cuts)}`;
}

const why = (i: ReviewItem, cuts: Cuts) =>
  explain(
    { ...i, fallback: i.fallbackLabel !== null || i.fallbackError !== null ? { label: i.fallbackLabel, ...(i.fallbackError ? { error: i.fallbackError } : {}) } : null },
    cuts,
  );

/** The routed label and why, then what makes this query worth a label. */
function itemLines(item: ReviewItem, cuts: Cuts): string {
  const fallback = item.fallbackLabel && item.decidedBy !== "fallback" ? `; the LLM fallback said ${item.fallbackLabel}` : "";
  const similar = item.duplicates.length ? `; +${item.duplicates.length} similar in the log` : "";
  return `  routed: ${item.label} (${why(item, cuts)})\n  queued: ${item.reasons.join("; ") || `its margin, ${item.margin.toFixed(3)}, is among the lowest`}${fallback}${similar}`;
}

async function label(items: readonly ReviewItem[], labels: readonly string[], log: DecisionStore, cuts: Cuts): Promise<void> {
  const out = process.stderr;
  const store = inOrder(log, (err) => out.write(`\n  not stored: ${err.message}\n> `));
  const session = new ReviewSession(items, labels, store);
  const legend = [...session.keys].map(([k, l]) => `${k}=${l === OUT_OF_SCOPE ? "out of scope" : l}`).join("  ") + "   s=skip u=undo q=quit";
  const show = () => {
    const item = session.current;
    if (!item) return out.write(`\nqueue done: ${session.labelled} labelled, ${session.skipped} skipped (u to undo, q to quit)\n`);
    const { at, of } = session.position;
    out.write(`\n[${at + 1}/${of}] ${item.text}\n${itemLines(item, cuts)}\n  ${legend}\n> `);
  };
  emitKeypressEvents(process.stdin);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  show();
  await new Promise<void>((resolve) => {
    const onKey = (_: string, key: { name?: string; sequence?: string; ctrl?: boolean }) => {
      const k = key.ctrl && key.name === "c" ? "q" : (key.sequence ?? key.name ?? "").toLowerCase();
      const event = session.press(k);
      if (event.type === "quit") {
        process.stdin.off("keypress", onKey);
        process.stdin.setRawMode(false);
        process.stdin.pause();
        void store.settled().then(() => {
          out.write(`\n${session.labelled} labelled, ${session.skipped} skipped; run \`triage retrain\` to learn from them\n`);
          resolve();
        });
        return;
      }
      if (event.type === "labelled") out.write(`${event.label}\n`);
      else if (event.type === "skipped") out.write("skipped\n");
      else if (event.type === "undone") out.write(`undone${event.label ? ` (${event.label})` : ""}\n`);
      else if (event.type === "unknown-key") return void out.write(`\n  unknown key "${event.key}"; ${legend}\n> `);
      else if (event.type === "nothing-to-undo") out.write("nothing to undo\n");
      show();
    };
    process.stdin.on("keypress", onKey);
  });
}

/**
 * The session's label store over either log: writes and undos go out one after another, in key order.
 * A PostgreSQL log answers later, so the session's id for a label is its place in that line.
 */
function inOrder(log: DecisionStore, onError: (err: Error) => void): LabelStore & { settled(): Promise<void> } {
  let line: Promise<void> = Promise.resolve();
  const written: Promise<number | undefined>[] = [];
  const enqueue = <T>(op: () => T | Promise<T>): Promise<T | undefined> => {
    const done = line.then(op).catch((err: Error) => {
      onError(err);
      return undefined;
    });
    line = done.then(() => undefined);
    return done;
  };
  return {
    write(requestId, label) {
      written.push(enqueue(() => log.feedback(requestId, { kind: "label", humanLabel: label, note: "triage review" })));
      return written.length - 1;
    },
    remove(slot) {
      void enqueue(async () => {
        const id = await written[slot];
        if (id !== undefined) await log.deleteFeedback(id);
      });
    },
    settled: () => line,
  };
}
