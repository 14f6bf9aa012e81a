/**
 * @module encoders/pull-cache
 * The cache @huggingface/transformers downloads into during `triage model pull` (its `customCache`
 * setting). Files land in the staging folder under <repo>/<revision>/<file>, written to a temp file
 * and renamed. Unlike the library's own file cache, this one knows which writes are still running:
 * when one download fails the library gives up at once while its sibling downloads keep writing, so
 * the pull closes the cache and waits for them before it removes the staging folder. Writes that
 * arrive after close are dropped, and a failed write is an error the pull sees, never an unhandled
 * stream event that would end the process.
 */
import { randomBytes } from "node:crypto";
import { existsSync, openAsBlob, statSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";

type Progress = (data: { progress: number; loaded: number; total: number }) => void;

export class StagingCache {
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  /**
   * @param prefix the URL every file of the pull starts with: `<endpoint>/<repo>/resolve/<revision>/`.
   * @param dir the staging folder for that revision; the file's path under the prefix is its path here.
   */
  constructor(
    private readonly prefix: string,
    private readonly dir: string,
  ) {}

  /** A file already staged (downloaded, or linked from an earlier pull), as a response the library reads. */
  async match(key: string): Promise<Response | undefined> {
    const path = this.pathFor(key);
    if (!path || this.closed || !existsSync(path)) return undefined;
    const size = statSync(path).size;
    return new Response(await openAsBlob(path), { status: 200, headers: { "content-length": String(size) } });
  }

  async put(key: string, response: Response, progress?: Progress): Promise<void> {
    const path = this.pathFor(key);
    if (!path || this.closed || !response.body) return;
    const job = this.write(path, response, progress);
    this.pending.add(job);
    try {
      await job;
    } finally {
      this.pending.delete(job);
    }
  }

  /** Refuses further writes and waits for the running ones to finish or fail. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The staging path for a URL under the prefix; undefined for anything else (other hosts, local paths, `..`). */
  private pathFor(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const file = normalize(decodeURIComponent(key.slice(this.prefix.length)));
    if (file === "" || file.startsWith("..") || file.includes(`${sep}..${sep}`) || file.startsWith(sep)) return undefined;
    return join(this.dir, file);
  }

  private async write(path: string, response: Response, progress?: Progress): Promise<void> {
    const total = Number(response.headers.get("content-length") ?? 0);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(tmp, "w");
    try {
      let loaded = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        await handle.write(chunk);
        loaded += chunk.length;
        progress?.({ progress: total ? (loaded / total) * 100 : 0, loaded, total });
      }
      await handle.close();
      await rename(tmp, path);
    } catch (err) {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
}
