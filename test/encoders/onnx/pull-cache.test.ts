/**
 * The pull's staging cache: a write still running when the pull gives up is awaited before the
 * staging folder goes, later writes are dropped, a broken body leaves no temp file, and only URLs
 * of the pinned revision map to files.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StagingCache } from "../../../src/encoders/onnx/pull-cache.js";
import { tempDir } from "../../helpers/temp.js";

const root = tempDir("triage-pull-cache-");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const prefix = "http://127.0.0.1:9/Xenova/m/resolve/abc/";

/** A response whose body the test feeds chunk by chunk. */
function controlled() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { response: new Response(body, { headers: { "content-length": "6" } }), controller };
}

describe("StagingCache", () => {
  it("close() waits for a write in progress, which lands whole; a put after close writes nothing", async () => {
    const dir = join(root, `s${n++}`);
    const cache = new StagingCache(prefix, dir);
    const { response, controller } = controlled();
    const progress: number[] = [];
    const put = cache.put(`${prefix}onnx/model.onnx`, response, (p) => progress.push(p.loaded));
    controller.enqueue(new Uint8Array([1, 2, 3]));

    let closed = false;
    const closing = cache.close().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    controller.enqueue(new Uint8Array([4, 5, 6]));
    controller.close();
    await Promise.all([put, closing]);
    expect([...readFileSync(join(dir, "onnx", "model.onnx"))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.at(-1)).toBe(6);

    await cache.put(`${prefix}config.json`, new Response("{}"));
    expect(existsSync(join(dir, "config.json"))).toBe(false);
    expect(await cache.match(`${prefix}onnx/model.onnx`)).toBeUndefined();
  });

  it("a body that breaks off rejects the put and leaves no temp file", async () => {
    const dir = join(root, `s${n++}`);
    const cache = new StagingCache(prefix, dir);
    const { response, controller } = controlled();
    const put = cache.put(`${prefix}tokenizer.json`, response);
    controller.enqueue(new Uint8Array([1]));
    controller.error(new Error("socket hang up"));
    await expect(put).rejects.toThrow("socket hang up");
    await cache.close();
    expect(readdirSync(dir, { recursive: true })).toEqual([]);
  });

  it("serves a staged file with its length, and maps only the pinned revision's URLs", async () => {
    const dir = join(root, `s${n++}`);
    const cache = new StagingCache(prefix, dir);
    await cache.put(`${prefix}tokenizer.json`, new Response("hello"));
    const hit = await cache.match(`${prefix}tokenizer.json`);
    expect(hit?.headers.get("content-length")).toBe("5");
    expect(await hit?.text()).toBe("hello");

    for (const key of ["http://127.0.0.1:9/Xenova/m/resolve/main/tokenizer.json", "/models/Xenova/m/tokenizer.json", `${prefix}../../../../etc/passwd`, `${prefix}..%2F..%2Fx`]) {
      await cache.put(key, new Response("x"));
      expect(await cache.match(key)).toBeUndefined();
    }
    expect(readdirSync(dir, { recursive: true })).toEqual(["tokenizer.json"]);
    expect(readdirSync(root)).not.toContain("etc");
  });
});
