/**
 * @module
 * The review queue's embeddings, kept in memory between page loads: each load embeds the head of the
 * ranking (a few hundred texts) to collapse near-duplicates, and after a few labels the head is nearly
 * the same, so only the texts not seen before are embedded again. Keyed by the encoder's fingerprint, so a
 * switch of model never reuses another encoder's vectors.
 */
import type { Encoder } from "../../encoders/types.js";
import { LruCache } from "../../router/lru.js";

/** About ten loads' worth of window texts (512 floats each: 20 MB at most). */
const CAPACITY = 10_000;

export class ReviewVectors {
  private cache = new LruCache<Float32Array>(CAPACITY);
  private fingerprint = "";

  /** `encoder`, answering the texts it embedded before from memory. */
  wrap(encoder: Encoder): Encoder {
    if (encoder.fingerprint !== this.fingerprint) {
      this.cache = new LruCache<Float32Array>(CAPACITY);
      this.fingerprint = encoder.fingerprint;
    }
    const cache = this.cache;
    return {
      id: encoder.id,
      dimensions: encoder.dimensions,
      fingerprint: encoder.fingerprint,
      embed: async (texts) => {
        const missing = [...new Set(texts.filter((t) => cache.get(t) === undefined))];
        const vectors = missing.length ? await encoder.embed(missing) : [];
        missing.forEach((t, i) => cache.set(t, vectors[i]));
        // Every text is in the cache now (a window is far smaller than its capacity).
        return texts.map((t) => cache.get(t) ?? vectors[missing.indexOf(t)]);
      },
    };
  }
}
