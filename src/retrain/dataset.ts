import { normalizeQuery as textKey } from "../common/text.js";
import { OUT_OF_SCOPE } from "./review/feedback.js";
import type { LoggedDecision } from "../store/types.js";
import type { Example } from "../train/data.js";

/** Where a training example came from, most trusted first in TRUST. */
export type Source = "human" | "base" | "escalated" | "fallback" | "highConfidence";

/**
 * Conflicts on the same text go to the more trusted source: a person's label from feedback beats the
 * curated base data (it is newer and about real traffic), which beats a quality-gate escalation, which
 * beats an LLM fallback answer, which beats the model's own confident decision. Ties: newer wins.
 */
export const TRUST: Record<Source, number> = { human: 5, base: 4, escalated: 3, fallback: 2, highConfidence: 1 };

export interface SourceCounts {
  /** Examples this source offered (after per-decision choice and caps). */
  offered: number;
  /** In the final training set. */
  used: number;
  /** Same text and label as an example kept from this or another source. */
  duplicates: number;
  /** Same text, different label: lost to a more trusted (or newer) source. */
  overridden: number;
}

export interface Provenance {
  sources: Record<Source, SourceCounts>;
  /** Usable fallback answers found in the log that disagreed / agreed with the local top-1. */
  fallback: { disagree: number; agree: number };
  /**
   * Logged decisions that could not be used for training, by reason. `outOfScope`: a person said no label
   * fits; those queries are all held out instead, to check the models still flag them.
   */
  skipped: { noText: number; unknownLabel: number; escalatedFromTopTier: number; thumbsDown: number; heldOut: number; outOfScope: number };
}

export interface TrainingSetOptions {
  /** The labels a training example may carry, in tier order when `ordered`. */
  labels: readonly string[];
  /** Tiers in increasing cost order: an escalation of tier i teaches tier i+1. */
  ordered: boolean;
  /** Also learn from the model's own confident decisions (off by default); capped, highest margin first. */
  includeHighConfidence?: boolean | { max?: number; minMargin?: number };
  /** Also learn from fallback answers that agree with the local top-1 (low-margin queries, now confirmed). Default true. */
  fallbackAgreements?: boolean;
  /** Newest human labels kept out of training for evaluation: this share of them (default 0.2), at most `max` (default 500). */
  heldOut?: { share?: number; max?: number };
}

export interface TrainingSet {
  examples: Example[];
  /**
   * Recent human-labelled traffic for evaluation, excluded from `examples`, then every query a person
   * marked out of scope (label `out-of-scope`, which evaluation counts as out of scope).
   */
  heldOut: Example[];
  provenance: Provenance;
}

interface Candidate {
  text: string;
  label: string;
  source: Source;
  /** ms since epoch: when the label was given (feedback) or the decision made; 0 for base data. */
  ts: number;
}

const DEFAULT_HIGH_CONFIDENCE_MAX = 1000;
const DEFAULT_HELD_OUT_SHARE = 0.2;
const DEFAULT_HELD_OUT_MAX = 500;

/** Base data plus logged decisions that carry a trustworthy label, deduplicated, conflicts resolved by TRUST. */
export function buildTrainingSet(base: readonly Example[], logged: Iterable<LoggedDecision>, options: TrainingSetOptions): TrainingSet {
  const labels = new Set(options.labels);
  const provenance = emptyProvenance();
  const fromLog: Candidate[] = [];
  const highConfidence: { c: Candidate; margin: number }[] = [];
  const hc = options.includeHighConfidence;
  const hcOptions = hc === true ? {} : hc === false || hc === undefined ? null : hc;

  const outOfScope: Example[] = [];
  for (const d of logged) {
    if (markedOutOfScope(d, labels)) {
      if (d.text === null) provenance.skipped.noText++;
      else outOfScope.push({ text: d.text, label: OUT_OF_SCOPE });
      provenance.skipped.outOfScope++;
      continue;
    }
    const pick = chooseForDecision(d, options, labels, provenance);
    if (!pick) continue;
    if (d.text === null) {
      provenance.skipped.noText++;
      continue;
    }
    const c = { ...pick, text: d.text };
    if (c.source === "highConfidence") {
      if (hcOptions && d.margin >= (hcOptions.minMargin ?? 0)) highConfidence.push({ c, margin: d.margin });
    } else fromLog.push(c);
  }
  highConfidence.sort((a, b) => b.margin - a.margin || b.c.ts - a.c.ts);
  fromLog.push(...highConfidence.slice(0, hcOptions?.max ?? DEFAULT_HIGH_CONFIDENCE_MAX).map((h) => h.c));

  // The newest human labels are held out for evaluation, and their texts kept out of training entirely.
  const humans = fromLog.filter((c) => c.source === "human").sort((a, b) => b.ts - a.ts);
  const heldCount = Math.min(Math.floor(humans.length * (options.heldOut?.share ?? DEFAULT_HELD_OUT_SHARE)), options.heldOut?.max ?? DEFAULT_HELD_OUT_MAX);
  const heldOut = new Map<string, Example>();
  for (const c of humans) {
    if (heldOut.size >= heldCount) break;
    if (!heldOut.has(textKey(c.text))) heldOut.set(textKey(c.text), { text: c.text, label: c.label });
  }
  // Nothing can be trained on them; evaluated, they keep a candidate from calling everything in scope.
  for (const e of outOfScope) if (!heldOut.has(textKey(e.text))) heldOut.set(textKey(e.text), e);

  const kept = new Map<string, Candidate>();
  const all: Candidate[] = [...base.map((e) => ({ text: e.text, label: e.label, source: "base" as const, ts: 0 })), ...fromLog];
  for (const c of all) {
    const key = textKey(c.text);
    if (heldOut.has(key)) {
      if (c.source !== "base") provenance.skipped.heldOut++;
      else provenance.sources.base.offered++;
      continue;
    }
    provenance.sources[c.source].offered++;
    const old = kept.get(key);
    if (!old) {
      kept.set(key, c);
      continue;
    }
    // Same label: keep the first one seen unless the newcomer is more trusted (provenance goes to the best source).
    // Different labels: the more trusted wins; between equals, the newer label.
    const sameTrust = TRUST[c.source] === TRUST[old.source];
    const newWins = TRUST[c.source] > TRUST[old.source] || (sameTrust && old.label !== c.label && c.ts >= old.ts);
    const loser = newWins ? old : c;
    if (old.label === c.label) provenance.sources[loser.source].duplicates++;
    else provenance.sources[loser.source].overridden++;
    if (newWins) kept.set(key, c);
  }
  for (const c of kept.values()) provenance.sources[c.source].used++;
  return { examples: [...kept.values()].map((c) => ({ text: c.text, label: c.label })), heldOut: [...heldOut.values()], provenance };
}

/** True when the newest human label on a decision says no label fits (and the models have no such label). */
function markedOutOfScope(d: LoggedDecision, labels: ReadonlySet<string>): boolean {
  const human = [...d.feedback].reverse().find((f) => f.kind === "label" && f.humanLabel !== null);
  return human?.humanLabel === OUT_OF_SCOPE && !labels.has(OUT_OF_SCOPE);
}

/** The single most trusted label one logged decision offers, or null. Counts what it skips. */
function chooseForDecision(d: LoggedDecision, options: TrainingSetOptions, labels: ReadonlySet<string>, provenance: Provenance): Omit<Candidate, "text"> | null {
  const human = [...d.feedback].reverse().find((f) => f.kind === "label" && f.humanLabel !== null);
  if (human) {
    if (labels.has(human.humanLabel!)) return { label: human.humanLabel!, source: "human", ts: human.ts };
    provenance.skipped.unknownLabel++;
  }
  const escalated = [...d.feedback].reverse().find((f) => f.kind === "escalated");
  if (escalated) {
    const i = options.labels.indexOf(d.label);
    if (options.ordered && i >= 0 && i < options.labels.length - 1) return { label: options.labels[i + 1], source: "escalated", ts: escalated.ts };
    provenance.skipped.escalatedFromTopTier++;
  }
  if (d.feedback.some((f) => f.kind === "thumbs" && f.thumbs === -1)) {
    provenance.skipped.thumbsDown++;
    return null;
  }
  if (d.fallbackUsed && d.fallbackLabel !== null && !d.fallbackError) {
    if (!labels.has(d.fallbackLabel)) provenance.skipped.unknownLabel++;
    else if (d.fallbackLabel !== d.modelLabel) {
      provenance.fallback.disagree++;
      return { label: d.fallbackLabel, source: "fallback", ts: d.ts };
    } else if (options.fallbackAgreements !== false) {
      provenance.fallback.agree++;
      return { label: d.fallbackLabel, source: "fallback", ts: d.ts };
    }
  }
  if (options.includeHighConfidence && d.decidedBy === "model" && !d.lowConfidence && labels.has(d.label)) return { label: d.label, source: "highConfidence", ts: d.ts };
  return null;
}

function emptyProvenance(): Provenance {
  const counts = (): SourceCounts => ({ offered: 0, used: 0, duplicates: 0, overridden: 0 });
  return {
    sources: { human: counts(), base: counts(), escalated: counts(), fallback: counts(), highConfidence: counts() },
    fallback: { disagree: 0, agree: 0 },
    skipped: { noText: 0, unknownLabel: 0, escalatedFromTopTier: 0, thumbsDown: 0, heldOut: 0, outOfScope: 0 },
  };
}
