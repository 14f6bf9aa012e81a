import { TriageError } from "../common/errors.js";
import { seededRandom, shuffleInPlace } from "../common/random.js";
import { StaticEncoder, staticIds, type StaticEncoderParameters } from "../encoders/static.js";
import { createTokenizer, type TokenizerSpec } from "../encoders/tokenizers/subword.js";
import { loadShippedVocabulary, type StaticVocabularyName } from "../encoders/tokenizers/vocabularies.js";
import type { Encoder } from "../encoders/types.js";
import type { DistillReport } from "../model/artifact.js";
import { createAdam, fitEpoch, heldOutCosine, type Example } from "./distill-fit.js";
import { fitPca, project } from "./pca.js";

/**
 * Distils a teacher sentence encoder into a StaticEncoder: each vocabulary token's row starts as the teacher's
 * embedding of that token alone, then the table, per-token weights and a bias are fitted (Adam on cosine loss)
 * so that static sentence vectors match the teacher's on the given texts; a held-out slice measures the gain.
 */

export interface DistillProgress {
  phase: "tokens" | "texts" | "fit";
  done: number;
  total: number;
  /** Held-out mean cosine after the epoch just finished (fit phase, when there is a held-out slice). */
  heldOutCosine?: number;
}

export interface DistillOptions {
  /** Unlabelled text (e.g. logged traffic) used for fitting alongside `texts`. */
  extraTexts?: readonly string[];
  /** Subword vocabulary: a shipped one by name, or an explicit spec. Default "use". */
  vocabulary?: StaticVocabularyName | TokenizerSpec;
  /** Passes over the training texts; 0 returns the token-only initialisation. Default 5 (Banking77's held-out cosine peaks at 4). */
  epochs?: number;
  seed?: number;
  /** Share of the texts kept out of fitting to measure it. Default 0.1. */
  heldOutFraction?: number;
  learningRate?: number;
  batchSize?: number;
  /**
   * Dimensions of the static space: the teacher's vectors are projected onto their top principal
   * directions before fitting, so every query costs a quarter of the multiply-adds in the encoder, the
   * index and the head (default 128; the teacher's own size or more keeps its space unprojected).
   */
  dimensions?: number;
  onProgress?: (p: DistillProgress) => void;
  /** Rows for hashed adjacent-token pairs (StaticEncoder); default 0. */
  bigramBuckets?: number;
  /**
   * The teacher's vectors in the static space from an earlier distillation over a superset of these texts
   * (its result's `basis`): skips the teacher, the projection's fit and the projecting, which cost most of
   * a distillation. Refits on subsets (cross-validation folds) use it.
   */
  basis?: DistillBasis;
}

/** What distillations over the same texts share: the teacher's vectors, projected once. */
export interface DistillBasis {
  /** Token-only initial table (V × D): each row is the teacher's vector of that token alone. */
  initialTable: Float32Array;
  /** Unit teacher vector in the static space of every text the basis was built on. */
  targets: ReadonlyMap<string, Float32Array>;
  dimensions: number;
  varianceKept: number;
  tokensEmbedded: number;
}

/** Default static dimensions: on CLINC150 a 128-d projection kept 94% of the variance and all of the accuracy. */
export const DEFAULT_STATIC_DIMENSIONS = 128;

const SIF_A = 1e-3; // smooth inverse frequency: weight a / (a + p(token)), as in Arora et al. 2017

export interface DistillResult {
  /** Parameters of the best epoch, quantised: behaves exactly as after saveStaticEncoder + load. */
  encoder: StaticEncoder;
  report: DistillReport;
  /** Texts the encoder was not fitted on: the only ones on which its quality can be judged honestly. */
  heldOutTexts: string[];
  /** To pass to refits on subsets of the texts. */
  basis: DistillBasis;
}

export async function distillStaticEncoder(teacher: Encoder, texts: readonly string[], options: DistillOptions = {}): Promise<DistillResult> {
  const epochs = options.epochs ?? 5;
  const seed = options.seed ?? 1;
  const heldOutFraction = options.heldOutFraction ?? 0.1;
  const learningRate = options.learningRate ?? 0.003;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 0) throw new TriageError(`distill: epochs must be a whole number >= 0, got ${epochs}`, "E_DISTILL");
  if (!(heldOutFraction >= 0 && heldOutFraction < 1)) throw new TriageError(`distill: heldOutFraction must be in [0, 1), got ${heldOutFraction}`, "E_DISTILL");
  if (!(learningRate > 0)) throw new TriageError(`distill: learningRate must be > 0, got ${learningRate}`, "E_DISTILL");
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TriageError(`distill: batchSize must be a whole number >= 1, got ${batchSize}`, "E_DISTILL");

  const bad = [...texts, ...(options.extraTexts ?? [])].findIndex((t) => typeof t !== "string");
  if (bad >= 0) throw new TriageError(`distill: text ${bad} is not a string`, "E_DISTILL");

  const spec = typeof options.vocabulary === "object" ? options.vocabulary : loadShippedVocabulary(options.vocabulary ?? "use");
  const tokenizer = createTokenizer(spec);
  const pieces = spec.pieces.length;
  const bigramBuckets = options.bigramBuckets ?? 0;
  const V = pieces + bigramBuckets;
  const dimensions = options.dimensions ?? DEFAULT_STATIC_DIMENSIONS;
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new TriageError(`distill: dimensions must be a whole number >= 1, got ${dimensions}`, "E_DISTILL");

  // 1. The texts, deduplicated and shuffled; the first `nHeld` only measure the fit.
  const all = [...new Set([...texts, ...(options.extraTexts ?? [])])].filter((t) => t.trim().length > 0);
  shuffleInPlace(all, seededRandom(seed));
  const kept = all.map((text) => ({ text, ids: Int32Array.from(staticIds(tokenizer.encode(text), pieces, bigramBuckets)) })).filter((e) => e.ids.length > 0);
  const nHeld = kept.length >= 2 ? Math.min(kept.length - 1, Math.round(kept.length * heldOutFraction)) : 0;

  // 2. Teacher vectors in the static space, and the token-only initialisation (unless a basis has them).
  const basis = options.basis ?? (await buildBasis(teacher, spec, all, kept.slice(nHeld), dimensions, options.onProgress));
  const D = basis.dimensions;
  if (basis.initialTable.length !== pieces * D)
    throw new TriageError(`distill: the basis was built for another vocabulary (${basis.initialTable.length / D} rows, not ${pieces})`, "E_DISTILL");
  // Pair rows start at zero: the sentence vector starts as its tokens' mean.
  const table = new Float32Array(V * D);
  table.set(basis.initialTable);
  const examples: Example[] = kept.map(({ text, ids }) => {
    const target = basis.targets.get(text);
    if (!target) throw new TriageError(`distill: the basis has no teacher vector for the text "${text.slice(0, 60)}"`, "E_DISTILL");
    return { ids, target };
  });
  const heldOut = examples.slice(0, nHeld);
  const heldOutTexts = kept.slice(0, nHeld).map((e) => e.text);
  const train = examples.slice(nHeld);

  const params: StaticEncoderParameters = {
    tokenizer: spec,
    dimensions: D,
    table,
    tokenWeights: sifWeights(train, V),
    bias: new Float32Array(D),
    ...(bigramBuckets > 0 ? { bigramBuckets } : {}),
    teacher: { id: teacher.id, fingerprint: teacher.fingerprint },
  };
  const initEncoder = StaticEncoder.fromParameters(params);

  // 3. Fit, keeping the epoch with the best held-out cosine.
  const started = performance.now();
  const byEpoch: number[] = [];
  let best = {
    epoch: 0,
    cosine: heldOut.length ? heldOutCosine(params, heldOut) : -Infinity,
    table: table.slice(),
    weights: params.tokenWeights.slice(),
    bias: params.bias.slice(),
  };
  const adam = createAdam(V, D, learningRate);
  const random = seededRandom(seed + 1);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    fitEpoch(params, train, adam, batchSize, random);
    const cosine = heldOut.length ? heldOutCosine(params, heldOut) : Number.NaN;
    byEpoch.push(cosine);
    if (!heldOut.length || cosine > best.cosine) {
      best = { epoch, cosine, table: params.table.slice(), weights: params.tokenWeights.slice(), bias: params.bias.slice() };
    }
    options.onProgress?.({ phase: "fit", done: epoch, total: epochs, ...(heldOut.length ? { heldOutCosine: cosine } : {}) });
  }
  const fitSeconds = (performance.now() - started) / 1000;

  const report: DistillReport = {
    vocabulary: spec.kind,
    vocabSize: V,
    tokensEmbedded: basis.tokensEmbedded,
    trainTexts: train.length,
    heldOutTexts: heldOut.length,
    epochs,
    bestEpoch: best.epoch,
    heldOutCosineInit: heldOut.length ? quantisedCosine(initEncoder, heldOut) : null,
    heldOutCosineFitted: null,
    heldOutCosineByEpoch: byEpoch,
    fitSeconds,
    dimensions: D,
    varianceKept: basis.varianceKept,
  };
  const encoder = StaticEncoder.fromParameters({
    ...params,
    table: best.table,
    tokenWeights: best.weights,
    bias: best.bias,
    training: { distilledFrom: teacher.id, trainTexts: train.length, heldOutTexts: heldOut.length, epochs, bestEpoch: best.epoch, seed },
  });
  report.heldOutCosineFitted = heldOut.length ? quantisedCosine(encoder, heldOut) : null;
  return { encoder, report, heldOutTexts, basis };
}

/**
 * The teacher's vectors of every vocabulary token and every text, projected onto the principal directions
 * of the fitting texts' vectors (`fitted`), and the token-only table: row = teacher(token text).
 */
async function buildBasis(
  teacher: Encoder,
  spec: TokenizerSpec,
  all: readonly string[],
  fitted: readonly { text: string }[],
  dimensions: number,
  onProgress: DistillOptions["onProgress"],
): Promise<DistillBasis> {
  const tokenStrings = tokenTexts(spec);
  const unique = [...new Set(tokenStrings.filter((t): t is string => t !== null))];
  let tokenVectors = await embedInChunks(teacher, unique, "tokens", onProgress);
  let targets = await embedInChunks(teacher, all, "texts", onProgress);
  let varianceKept = 1;
  if (dimensions < teacher.dimensions && fitted.length > 0) {
    const row = new Map(all.map((t, i) => [t, i]));
    const pca = fitPca(
      fitted.map((e) => targets[row.get(e.text) as number]),
      dimensions,
    );
    varianceKept = pca.varianceKept;
    targets = targets.map((t) => project(pca, t, true));
    tokenVectors = tokenVectors.map((t) => project(pca, t));
  }
  const D = targets[0]?.length ?? Math.min(dimensions, teacher.dimensions);
  const initialTable = new Float32Array(spec.pieces.length * D);
  const vectorOf = new Map(unique.map((t, i) => [t, tokenVectors[i]]));
  tokenStrings.forEach((t, r) => {
    if (t !== null) initialTable.set(vectorOf.get(t) as Float32Array, r * D);
  });
  return { initialTable, targets: new Map(all.map((t, i) => [t, targets[i]])), dimensions: D, varianceKept, tokensEmbedded: unique.length };
}

/** The text the teacher embeds for each vocabulary row, or null for rows left at zero (special tokens). */
export function tokenTexts(spec: TokenizerSpec): (string | null)[] {
  return spec.pieces.map((piece, row) => {
    let text: string;
    if (spec.kind === "unigram") {
      if (row < spec.reserved) return null;
      text = piece.replace(/\u2581/g, " ").trim();
    } else {
      if (/^\[[^\]]+\]$/.test(piece)) return null;
      text = piece.startsWith("##") ? piece.slice(2) : piece;
    }
    return text.length > 0 ? text : null;
  });
}

function sifWeights(train: readonly Example[], V: number): Float32Array {
  const counts = new Float64Array(V);
  let total = 0;
  for (const e of train) {
    for (const id of e.ids) counts[id]++;
    total += e.ids.length;
  }
  const w = new Float32Array(V);
  for (let r = 0; r < V; r++) w[r] = total > 0 ? SIF_A / (SIF_A + counts[r] / total) : 1;
  return w;
}

function quantisedCosine(encoder: StaticEncoder, examples: readonly Example[]): number {
  let sum = 0;
  for (const e of examples) {
    const v = encoder.embedTokens(Array.from(e.ids));
    let c = 0;
    for (let d = 0; d < v.length; d++) c += v[d] * e.target[d];
    sum += c;
  }
  return sum / examples.length;
}

async function embedInChunks(teacher: Encoder, texts: readonly string[], phase: DistillProgress["phase"], onProgress: DistillOptions["onProgress"]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const chunk = 512;
  for (let i = 0; i < texts.length; i += chunk) {
    const vectors = await teacher.embed(texts.slice(i, i + chunk));
    if (vectors.length !== Math.min(chunk, texts.length - i) || vectors.some((v) => v.length !== teacher.dimensions)) {
      throw new TriageError(`distill: teacher ${teacher.id} returned vectors of the wrong count or size`, "E_DISTILL");
    }
    out.push(...vectors);
    onProgress?.({ phase, done: out.length, total: texts.length });
  }
  return out;
}
