/**
 * Hashed lexical features: word 1–2-grams and character 4-grams, sublinear TF × IDF, L2-normalised.
 * Cheap (microseconds per query) and strong on intent data where a few words decide the label;
 * the trained head reads them next to the sentence embedding.
 */

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

export interface LexicalParams {
  /** Number of hash buckets (a power of two). */
  buckets: number;
  charNgram: number;
}

export const DEFAULT_LEXICAL: LexicalParams = { buckets: 1 << 15, charNgram: 4 };

/** 32-bit FNV-1a; stable across runs and platforms, so artifacts stay valid. */
function fnv1a(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;

export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Raw term counts per bucket. */
function termCounts(text: string, params: LexicalParams): Map<number, number> {
  const counts = new Map<number, number>();
  const add = (feature: string, seed: number) => {
    const b = fnv1a(feature, seed) & (params.buckets - 1);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  };
  const words = tokenizeWords(text);
  for (let i = 0; i < words.length; i++) {
    add(words[i], 1);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`, 2);
  }
  const n = params.charNgram;
  for (const w of words) {
    const padded = ` ${w} `;
    for (let i = 0; i + n <= padded.length; i++) add(padded.slice(i, i + n), 3);
  }
  return counts;
}

export class LexicalFeaturizer {
  constructor(
    readonly params: LexicalParams,
    /** Inverse document frequency per bucket, learned from the training texts. */
    readonly idf: Float32Array,
  ) {}

  static fit(texts: readonly string[], params: LexicalParams = DEFAULT_LEXICAL): LexicalFeaturizer {
    const df = new Float64Array(params.buckets);
    for (const t of texts) for (const b of termCounts(t, params).keys()) df[b]++;
    const idf = new Float32Array(params.buckets);
    const n = texts.length;
    for (let b = 0; b < params.buckets; b++) idf[b] = Math.log((1 + n) / (1 + df[b])) + 1;
    return new LexicalFeaturizer(params, idf);
  }

  transform(text: string): SparseVector {
    const counts = termCounts(text, this.params);
    const indices = new Int32Array(counts.size);
    const values = new Float32Array(counts.size);
    let i = 0;
    let norm = 0;
    for (const [b, c] of [...counts.entries()].sort((x, y) => x[0] - y[0])) {
      const v = (1 + Math.log(c)) * this.idf[b];
      indices[i] = b;
      values[i] = v;
      norm += v * v;
      i++;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < values.length; k++) values[k] /= norm;
    return { indices, values };
  }
}
