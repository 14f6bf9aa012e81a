import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { sha256 } from "../common/hash.js";
import type { Encoder } from "./types.js";

/**
 * Wraps an encoder with an on-disk cache keyed by (encoder fingerprint, text hash),
 * so retraining re-embeds only text it has not seen. Same id/fingerprint as the inner encoder.
 */
export class CachedEncoder implements Encoder {
  readonly id: string;
  readonly dimensions: number;
  readonly fingerprint: string;
  hits = 0;
  misses = 0;
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string, string], { vec: Buffer }>;
  private readonly putStmt: Database.Statement<[string, string, Buffer]>;

  constructor(
    private readonly inner: Encoder,
    path: string,
  ) {
    this.id = inner.id;
    this.dimensions = inner.dimensions;
    this.fingerprint = inner.fingerprint;
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 30000"); // several processes may share one cache
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS embeddings (fingerprint TEXT NOT NULL, text_hash TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (fingerprint, text_hash)) WITHOUT ROWID",
    );
    this.getStmt = this.db.prepare("SELECT vec FROM embeddings WHERE fingerprint = ? AND text_hash = ?");
    this.putStmt = this.db.prepare("INSERT OR REPLACE INTO embeddings (fingerprint, text_hash, vec) VALUES (?, ?, ?)");
  }

  async embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(texts.length);
    const missing: number[] = [];
    const hashes = texts.map((t) => sha256(t));
    texts.forEach((_, i) => {
      const row = this.getStmt.get(this.fingerprint, hashes[i]);
      if (row) out[i] = new Float32Array(row.vec.buffer.slice(row.vec.byteOffset, row.vec.byteOffset + row.vec.byteLength));
      else missing.push(i);
    });
    this.hits += texts.length - missing.length;
    this.misses += missing.length;
    onProgress?.(texts.length - missing.length);
    const chunk = 64;
    for (let s = 0; s < missing.length; s += chunk) {
      const idx = missing.slice(s, s + chunk);
      const vecs = await this.inner.embed(idx.map((i) => texts[i]));
      onProgress?.(idx.length);
      this.db.transaction(() => {
        idx.forEach((i, k) => {
          out[i] = vecs[k];
          this.putStmt.run(this.fingerprint, hashes[i], Buffer.from(vecs[k].buffer, vecs[k].byteOffset, vecs[k].byteLength));
        });
      })();
    }
    return out;
  }

  async close(): Promise<void> {
    this.db.close();
    await this.inner.close?.();
  }
}
