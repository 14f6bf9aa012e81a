/**
 * @module Subword tokenizers (encoders/tokenizers/): the unigram and WordPiece tokenizers, the vocabularies shipped for
 * them (vocabularies.ts) and the Hugging Face tokenizer of ONNX models (hf.ts).
 *
 * Subword tokenizers for the static encoder. Both are pure JS, allocation-light, and rebuilt from the
 * vocabulary stored in the static encoder's artifact, so nothing is read from a package at run time.
 * The unigram one also tokenises for the full USE encoder (use.ts), so both stages see the same pieces.
 */
import { TriageError } from "../../common/errors.js";

/** How a vocabulary is tokenised, as recorded in the artifact header. */
export type TokenizerSpec =
  | {
      /** SentencePiece unigram (Viterbi over piece log-probabilities); "▁" marks a word start. USE-lite's vocabulary. */
      kind: "unigram";
      pieces: string[];
      scores: number[];
      /** Leading entries (unknown, <s>, ...) that are never matched. */
      reserved: number;
    }
  | {
      /** BERT WordPiece (greedy longest match, "##" continuation pieces), lowercased and accent-stripped. */
      kind: "wordpiece";
      pieces: string[];
      unknown: string;
    };

export interface SubwordTokenizer {
  readonly spec: TokenizerSpec;
  readonly vocabSize: number;
  /** Token ids of `text`; empty text gives no ids. */
  encode(text: string): number[];
}

export function createTokenizer(spec: TokenizerSpec): SubwordTokenizer {
  if (spec.kind === "unigram") return new UnigramTokenizer(spec);
  if (spec.kind === "wordpiece") return new WordPieceTokenizer(spec);
  throw new TriageError(`unknown static tokenizer kind: ${(spec as { kind: unknown }).kind}`, "E_STATIC_TOKENIZER");
}

const WORD_START = "\u2581";
const MAX_INPUT_CHARS = 10_000; // bounds Viterbi work on pathological input; a routing query is far shorter
const FIRST_WORD_KEY = "\u0000"; // memo key prefix for a text's first word (see UnigramTokenizer.encode)

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Piece id ending here, or -1. */
  id: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1 };
}

/**
 * SentencePiece unigram tokenizer, a faithful port of the one inside @energetic-ai/embeddings (not exported
 * there), so static pieces line up with what the USE teacher sees: NFKC, "▁" for spaces, Viterbi with ties
 * going to the later start, unknown characters as id 0 with consecutive unknowns merged.
 */
export class UnigramTokenizer implements SubwordTokenizer {
  readonly vocabSize: number;
  private readonly root = newNode();
  /**
   * True when no piece holds "▁" past its first character and "▁" alone is a piece: then every space is a
   * segment boundary, so segmenting word by word (memoised) gives the same pieces as the whole string.
   */
  private readonly wordwise: boolean;
  private readonly memo = new BoundedMemo();

  constructor(readonly spec: Extract<TokenizerSpec, { kind: "unigram" }>) {
    if (spec.pieces.length !== spec.scores.length) {
      throw new TriageError("unigram vocabulary: pieces and scores differ in length", "E_STATIC_TOKENIZER");
    }
    this.vocabSize = spec.pieces.length;
    for (let id = spec.reserved; id < spec.pieces.length; id++) {
      let node = this.root;
      for (const ch of spec.pieces[id]) {
        const code = ch.codePointAt(0) as number;
        let next = node.children.get(code);
        if (!next) {
          next = newNode();
          node.children.set(code, next);
        }
        node = next;
      }
      if (node !== this.root) node.id = id;
    }
    const markerIsPiece = (this.root.children.get(WORD_START.codePointAt(0) as number)?.id ?? -1) >= 0;
    this.wordwise = markerIsPiece && !spec.pieces.some((p, i) => i >= spec.reserved && p.indexOf(WORD_START, 1) >= 0);
  }

  encode(text: string): number[] {
    const normalized = text.slice(0, MAX_INPUT_CHARS).normalize("NFKC");
    if (normalized.length === 0) return [];
    if (!this.wordwise) return mergeUnknowns(this.viterbi(WORD_START + normalized.replace(/ /g, WORD_START), 0));
    const ids: number[] = [];
    const words = normalized.split(" ");
    for (let w = 0; w < words.length; w++) {
      // The original's "0 means unset" quirk only bites at the very start of the text (prefix score 0); later
      // words sit behind a negative prefix score, which the offset -1 stands in for. So the first word has its own key.
      const key = w === 0 ? FIRST_WORD_KEY + words[w] : words[w];
      let wordIds = this.memo.get(key);
      if (!wordIds) {
        wordIds = this.viterbi(WORD_START + words[w], w === 0 ? 0 : -1);
        this.memo.set(key, wordIds);
      }
      for (const id of wordIds) ids.push(id);
    }
    return mergeUnknowns(ids);
  }

  /** Viterbi segmentation of one string (already "▁"-marked); unknown characters come out as id 0, unmerged. */
  private viterbi(marked: string, prefixScore: number): number[] {
    const symbols: number[] = [];
    for (const ch of marked) symbols.push(ch.codePointAt(0) as number);
    const n = symbols.length;
    const { scores } = this.spec;
    // best[e]: best score of a segmentation of symbols[0, e); 0 doubles as "unset", as in the original.
    // Relaxing forward by ascending start visits each end's candidates in the original's order (ascending start).
    const best = new Float64Array(n + 1);
    const bestId = new Int32Array(n + 1);
    const bestLen = new Int32Array(n + 1);
    best[0] = prefixScore;
    const relax = (start: number, end: number, id: number, pieceScore: number): void => {
      const score = pieceScore + best[start];
      if (best[end] === 0 || score >= best[end]) {
        best[end] = score;
        bestId[end] = id;
        bestLen[end] = end - start;
      }
    };
    for (let start = 0; start < n; start++) {
      let node: TrieNode | undefined = this.root.children.get(symbols[start]);
      let matched = false;
      for (let len = 1; node; len++) {
        if (node.id >= 0) {
          relax(start, start + len, node.id, scores[node.id]);
          matched = true;
        }
        if (start + len >= n) break;
        node = node.children.get(symbols[start + len]);
      }
      if (!matched) relax(start, start + 1, 0, 0); // unknown single character
    }
    const ids: number[] = [];
    for (let end = n; end > 0; end -= bestLen[end]) ids.push(bestId[end]);
    return ids.reverse();
  }
}

function mergeUnknowns(ids: number[]): number[] {
  const merged: number[] = [];
  for (let i = 0; i < ids.length; i++) if (!(ids[i] === 0 && i > 0 && ids[i - 1] === 0)) merged.push(ids[i]);
  return merged;
}

/** Word -> ids memo: queries repeat words, so tokenising becomes a few map look-ups. Cleared when full. */
class BoundedMemo {
  private readonly map = new Map<string, number[]>();
  constructor(private readonly capacity = 100_000) {}
  get(word: string): number[] | undefined {
    return this.map.get(word);
  }
  set(word: string, ids: number[]): void {
    if (this.map.size >= this.capacity) this.map.clear();
    this.map.set(word, ids);
  }
}

const PUNCTUATION = /[\p{P}\p{S}]/u;

/** BERT-uncased WordPiece: basic tokenisation (lowercase, strip accents, split punctuation), then greedy longest match. */
export class WordPieceTokenizer implements SubwordTokenizer {
  readonly vocabSize: number;
  private readonly ids = new Map<string, number>();
  private readonly unknownId: number;
  private readonly memo = new BoundedMemo();

  constructor(readonly spec: Extract<TokenizerSpec, { kind: "wordpiece" }>) {
    this.vocabSize = spec.pieces.length;
    spec.pieces.forEach((p, i) => {
      if (p.length > 0 && !this.ids.has(p)) this.ids.set(p, i);
    });
    const unk = this.ids.get(spec.unknown);
    if (unk === undefined) throw new TriageError(`wordpiece vocabulary lacks its unknown token ${spec.unknown}`, "E_STATIC_TOKENIZER");
    this.unknownId = unk;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const chunk of text.slice(0, MAX_INPUT_CHARS).split(/\s+/)) {
      if (chunk.length === 0) continue;
      let ids = this.memo.get(chunk);
      if (!ids) {
        ids = this.encodeChunk(chunk);
        this.memo.set(chunk, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** One whitespace-free chunk: lowercase, strip accents, split off punctuation, then WordPiece each word. */
  private encodeChunk(chunk: string): number[] {
    const cleaned = chunk
      .toLowerCase()
      .normalize("NFD")
      .replace(/\p{Mn}/gu, "");
    const out: number[] = [];
    let word = "";
    for (const ch of cleaned) {
      if (/\s/.test(ch)) continue; // NFD can't add spaces, but lowercasing some characters can expand them
      if (PUNCTUATION.test(ch)) {
        if (word) this.encodeWord(word, out);
        this.encodeWord(ch, out);
        word = "";
      } else word += ch;
    }
    if (word) this.encodeWord(word, out);
    return out;
  }

  private encodeWord(word: string, out: number[]): void {
    if (word.length > 100) {
      out.push(this.unknownId);
      return;
    }
    const first = out.length;
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found = -1;
      while (end > start) {
        const piece = start === 0 ? word.slice(0, end) : "##" + word.slice(start, end);
        const id = this.ids.get(piece);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) {
        out.length = first; // BERT: a word with any unmatchable part becomes a single [UNK]
        out.push(this.unknownId);
        return;
      }
      out.push(found);
      start = end;
    }
  }
}
