import type { Encoder } from "./types.js";

/** Wraps an encoder and remembers how long each embed call took (to show the embedding share of latency). */
export class TimedEncoder implements Encoder {
  readonly id: string;
  readonly dimensions: number;
  readonly fingerprint: string;
  lastMs = 0;

  constructor(private readonly inner: Encoder) {
    this.id = inner.id;
    this.dimensions = inner.dimensions;
    this.fingerprint = inner.fingerprint;
  }

  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    const start = performance.now();
    const out = await this.inner.embed(texts, onProgress);
    this.lastMs = performance.now() - start;
    return out;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
