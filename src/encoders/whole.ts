/**
 * @module Embedding a whole text with an encoder that reads only its first tokens: USE-Lite reads 128 and
 * drops the rest, so a long prompt's question (after a passage or a long preamble) never reached the
 * vector. The text is cut, at spaces, into pieces the encoder reads whole; the vector is the normalised
 * mean of theirs. A text that fits is one piece, embedded exactly as `encoder.embed` embeds it.
 */
import type { Encoder } from "./types.js";

/** The text in pieces `encoder` reads whole (the text itself when it fits, or the encoder has no limit). */
export function windowsOf(encoder: Encoder, text: string): string[] {
  return encoder.windows?.(text) ?? [text];
}

/**
 * Cuts `text` at whitespace into pieces of at most `max` tokens as `count` counts them (one piece when it
 * fits). A single word longer than `max` is a piece of its own (the encoder then reads its start).
 */
export function cutAtSpaces(text: string, max: number, count: (piece: string) => number): string[] {
  if (count(text) <= max) return [text];
  const pieces: string[] = [];
  let piece = "";
  let used = 0;
  for (const word of text.split(/\s+/)) {
    if (word === "") continue;
    const n = count(word);
    if (piece !== "" && used + n > max) {
      pieces.push(piece);
      piece = "";
      used = 0;
    }
    piece = piece === "" ? word : `${piece} ${word}`;
    used += n;
  }
  if (piece !== "") pieces.push(piece);
  // Counted word by word it may fit after all: then it is the text itself, whitespace and all, as embed reads it.
  return pieces.length <= 1 ? [text] : pieces;
}

/** One unit vector per text: the normalised mean of its pieces' vectors (windowsOf). */
export async function embedWhole(encoder: Encoder, texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
  // One piece is always the text itself (cutAtSpaces), so a text embeds alike alone or among long ones.
  const pieces = texts.map((t) => windowsOf(encoder, t));
  if (pieces.every((p) => p.length === 1)) return encoder.embed(texts, onProgress);
  const all = pieces.flat();
  // Progress counts texts, as embed's does: pieces done, scaled to texts, reported as steps.
  let piecesDone = 0;
  let reported = 0;
  const step =
    onProgress &&
    ((n: number) => {
      piecesDone += n;
      const now = Math.floor((piecesDone * texts.length) / all.length);
      if (now > reported) onProgress(now - reported);
      reported = Math.max(reported, now);
    });
  const flat = await encoder.embed(all, step);
  let next = 0;
  return pieces.map((p) => {
    if (p.length === 1) return flat[next++];
    const out = new Float32Array(encoder.dimensions);
    for (let k = 0; k < p.length; k++) {
      const v = flat[next++];
      for (let i = 0; i < out.length; i++) out[i] += v[i];
    }
    let norm = 0;
    for (let i = 0; i < out.length; i++) norm += out[i] * out[i];
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < out.length; i++) out[i] /= norm;
    return out;
  });
}
