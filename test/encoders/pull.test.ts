import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PULL_MANIFEST, pullFiles, pullModel, pullSpecFor, type PullSpec } from "../../src/encoders/pull.js";
import { OnnxEncoder, findOnnxModel } from "../../src/encoders/onnx.js";
import { TINY_VOCAB, buildTinyModel, tinyTokenizerJson } from "../helpers/tiny-onnx.js";

const sha = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");
const root = mkdtempSync(join(tmpdir(), "triage-pull-"));
let n = 0;
const freshDest = () => join(root, `dest-${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Hugging Face look-alike: serves files under /<repo>/resolve/<revision>/<path>, ONNX files via a redirect like the Hub's LFS. */
class FakeHub {
  files = new Map<string, Uint8Array | string>();
  requests: string[] = [];
  /** Paths whose body is cut off half way (the socket is destroyed). */
  truncate = new Set<string>();
  private server!: Server;
  endpoint = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = req.url ?? "";
      this.requests.push(url);
      if (url.startsWith("/cdn/")) {
        const key = decodeURIComponent(url.slice("/cdn/".length));
        return this.send(res, key);
      }
      const key = decodeURIComponent(url.slice(1));
      if (key.endsWith(".onnx") && this.files.has(key)) {
        res.writeHead(302, { location: `/cdn/${encodeURIComponent(key)}` });
        return res.end();
      }
      this.send(res, key);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private send(res: import("node:http").ServerResponse, key: string) {
    const body = this.files.get(key);
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end("Entry not found");
    }
    const bytes = Buffer.from(body);
    res.writeHead(200, { "content-length": String(bytes.length), "content-type": "application/octet-stream" });
    if (this.truncate.has(key)) {
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.end(bytes);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Every file name under dir, recursively (to catch stray temp files). */
function listAll(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe("pullModel / pullFiles against a local hub", () => {
  const hub = new FakeHub();
  const spec = pullSpecFor("all-MiniLM-L6-v2");
  const base = `${spec.repo}/resolve/${spec.revision}`;
  const tiny = buildTinyModel({ vocabSize: TINY_VOCAB.length, dim: 8, tokenTypes: true });
  const tinyFp32 = buildTinyModel({ vocabSize: TINY_VOCAB.length, dim: 8, tokenTypes: true, seed: 99 });

  beforeAll(async () => {
    await hub.start();
    hub.files.set(`${base}/tokenizer.json`, JSON.stringify(tinyTokenizerJson()));
    hub.files.set(`${base}/tokenizer_config.json`, JSON.stringify({ do_lower_case: true }));
    hub.files.set(`${base}/config.json`, JSON.stringify({ hidden_size: 8, max_position_embeddings: 512 }));
    hub.files.set(`${base}/special_tokens_map.json`, JSON.stringify({ cls_token: "[CLS]" }));
    hub.files.set(`${base}/vocab.txt`, TINY_VOCAB.join("\n"));
    hub.files.set(`${base}/onnx/model_quint8_avx2.onnx`, tiny.bytes);
    hub.files.set(`${base}/onnx/model.onnx`, tinyFp32.bytes);
  });
  afterAll(() => hub.stop());
  afterEach(() => {
    hub.requests = [];
    hub.truncate.clear();
  });

  it("downloads the pinned revision's files into dest/<name>, records unpinned digests, and the result loads as an encoder", async () => {
    const dest = freshDest();
    const notes: string[] = [];
    const result = await pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, progress: false, log: (l) => notes.push(l) });

    const dir = join(dest, "all-MiniLM-L6-v2");
    expect(result.dir).toBe(dir);
    expect(listAll(dir)).toEqual([
      "config.json", "onnx/model_quantized.onnx", PULL_MANIFEST, "special_tokens_map.json",
      "tokenizer.json", "tokenizer_config.json", "vocab.txt",
    ].sort());
    expect(readFileSync(join(dir, "onnx", "model_quantized.onnx"))).toEqual(Buffer.from(tiny.bytes));
    expect(hub.requests).toContain(`/${base}/onnx/model_quint8_avx2.onnx`);
    expect(hub.requests.every((r) => r.includes(spec.revision) || r.startsWith("/cdn/"))).toBe(true);

    const manifest = JSON.parse(readFileSync(result.manifestPath, "utf8"));
    expect(manifest).toMatchObject({ model: "all-MiniLM-L6-v2", repo: spec.repo, revision: spec.revision, endpoint: hub.endpoint });
    const model = manifest.files.find((f: { file: string }) => f.file === "onnx/model_quantized.onnx");
    expect(model).toEqual({
      file: "onnx/model_quantized.onnx",
      source: "onnx/model_quint8_avx2.onnx",
      sha256: sha(tiny.bytes),
      size: tiny.bytes.length,
      pinned: false,
    });
    expect(notes.join("\n")).toMatch(/no pinned SHA-256 for .*onnx\/model_quantized\.onnx: recorded the computed digests in .*pull-manifest\.json/);

    expect(findOnnxModel(dir)).toBe(dir);
    const enc = await OnnxEncoder.load(dir, { threads: 1 });
    try {
      expect(enc.id).toBe("onnx:all-MiniLM-L6-v2");
      expect((await enc.embed(["hello world"]))[0]).toHaveLength(8);
    } finally {
      await enc.close();
    }
  });

  it("does not download again files whose digest matches the manifest, and --fp32 adds onnx/model.onnx", async () => {
    const dest = freshDest();
    await pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, progress: false, log: () => {} });
    hub.requests = [];
    const again = await pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, progress: false, log: () => {}, fp32: true });
    expect(hub.requests.map((r) => r.replace(`/${base}/`, ""))).toEqual(["onnx/model.onnx", `/cdn/${encodeURIComponent(`${base}/onnx/model.onnx`)}`]);
    expect(again.files.filter((f) => f.skipped).map((f) => f.file)).toEqual(
      ["tokenizer.json", "tokenizer_config.json", "config.json", "special_tokens_map.json", "vocab.txt"],
    );
    const manifest = JSON.parse(readFileSync(again.manifestPath, "utf8"));
    expect(manifest.files.map((f: { file: string }) => f.file)).toContain("onnx/model_quantized.onnx");
    expect(manifest.files.map((f: { file: string }) => f.file)).toContain("onnx/model.onnx");

    // A file changed on disk no longer matches its recorded digest, so it is fetched again.
    writeFileSync(join(again.dir, "vocab.txt"), "tampered");
    hub.requests = [];
    await pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, progress: false, log: () => {} });
    expect(hub.requests).toEqual([`/${base}/vocab.txt`]);
    expect(readFileSync(join(again.dir, "vocab.txt"), "utf8")).toBe(TINY_VOCAB.join("\n"));
  });

  it("checks pinned digests: a match passes, a mismatch is refused and leaves no file behind", async () => {
    const vocab = TINY_VOCAB.join("\n");
    const pinned = (sha256: string): PullSpec => ({
      name: "pinned-model",
      repo: spec.repo,
      revision: spec.revision,
      files: [{ remote: "vocab.txt", sha256, size: Buffer.byteLength(vocab) }, { remote: "onnx/model_quint8_avx2.onnx", local: "onnx/model_quantized.onnx", sha256: sha(tiny.bytes) }],
    });
    const good = freshDest();
    const ok = await pullFiles(pinned(sha(vocab)), { dest: good, endpoint: hub.endpoint, progress: false, log: () => {} });
    expect(ok.files.map((f) => f.pinned)).toEqual([true, true]);

    const bad = freshDest();
    const wrong = "0".repeat(64);
    await expect(pullFiles(pinned(wrong), { dest: bad, endpoint: hub.endpoint, progress: false, log: () => {} })).rejects.toThrow(
      `sha256 mismatch for vocab.txt: expected ${wrong}, got ${sha(vocab)}; the download was discarded`,
    );
    expect(listAll(bad)).toEqual([]);
  });

  it("refuses a size mismatch", async () => {
    const dest = freshDest();
    const s: PullSpec = { name: "sized", repo: spec.repo, revision: spec.revision, files: [{ remote: "config.json", size: 3 }] };
    await expect(pullFiles(s, { dest, endpoint: hub.endpoint, progress: false, log: () => {} })).rejects.toThrow(
      /size mismatch for config\.json: expected 3 bytes, got \d+; the download was discarded/,
    );
    expect(listAll(dest)).toEqual([]);
  });

  it("keeps nothing of a download cut off half way, and keeps the earlier good file", async () => {
    const dest = freshDest();
    await pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, progress: false, log: () => {} });
    const dir = join(dest, "all-MiniLM-L6-v2");
    const before = listAll(dir);
    hub.truncate.add(`${base}/onnx/model_quint8_avx2.onnx`);
    await expect(
      pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, progress: false, log: () => {}, force: true }),
    ).rejects.toThrow(/download of .*model_quint8_avx2\.onnx was interrupted .*nothing was kept/);
    expect(listAll(dir)).toEqual(before);
    expect(readFileSync(join(dir, "onnx", "model_quantized.onnx"))).toEqual(Buffer.from(tiny.bytes));
  });

  it("reports a missing remote file with the URL and status", async () => {
    const s: PullSpec = { name: "missing", repo: spec.repo, revision: spec.revision, files: [{ remote: "onnx/nope.onnx" }] };
    await expect(pullFiles(s, { dest: freshDest(), endpoint: hub.endpoint, progress: false, log: () => {} })).rejects.toThrow(
      `download failed: GET ${hub.endpoint}/${base}/onnx/nope.onnx returned 404 Not Found`,
    );
  });

  it("reports progress as one line per file when stderr is not a terminal", async () => {
    const lines: string[] = [];
    await pullModel("all-MiniLM-L6-v2", { dest: freshDest(), endpoint: hub.endpoint, progress: true, log: (l) => lines.push(l) });
    const fetched = lines.filter((l) => l.startsWith("fetched "));
    expect(fetched).toHaveLength(6);
    expect(fetched).toContain(`fetched onnx/model_quantized.onnx (${(tiny.bytes.length / 1e3).toFixed(1)} kB)`);
  });
});

describe("pullModel without a reachable endpoint", () => {
  it("fails with one line naming the endpoint and the socket error, and writes nothing", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const endpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));

    const dest = freshDest();
    const err = await pullModel("all-MiniLM-L6-v2", { dest, endpoint, progress: false, log: () => {} }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      `cannot reach ${endpoint} (ECONNREFUSED): triage model pull needs network access; set HF_ENDPOINT for a mirror`,
    );
    expect(listAll(dest)).toEqual([]);
  });

  it("names the DNS error code undici reports", async () => {
    const dnsFailure: typeof fetch = async () => {
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("getaddrinfo ENOTFOUND huggingface.co"), { code: "ENOTFOUND" }) });
    };
    await expect(
      pullModel("all-MiniLM-L6-v2", { dest: freshDest(), endpoint: "https://huggingface.co", fetch: dnsFailure, progress: false, log: () => {} }),
    ).rejects.toThrow(/^cannot reach https:\/\/huggingface\.co \(ENOTFOUND\): triage model pull needs network access; set HF_ENDPOINT for a mirror$/);
  });

  it("rejects an unknown model name, listing the known ones", async () => {
    await expect(pullModel("bert-large", { dest: freshDest(), progress: false })).rejects.toThrow(
      'unknown model "bert-large"; triage model pull knows: all-MiniLM-L6-v2',
    );
  });

  it("reads HF_ENDPOINT when no endpoint is given", async () => {
    const seen: string[] = [];
    const recording: typeof fetch = async (input) => {
      seen.push(String(input));
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) });
    };
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = "http://127.0.0.1:9/";
    try {
      await expect(pullModel("all-MiniLM-L6-v2", { dest: freshDest(), fetch: recording, progress: false })).rejects.toThrow(
        /^cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
      );
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
    }
    expect(seen[0]).toBe(`http://127.0.0.1:9/sentence-transformers/all-MiniLM-L6-v2/resolve/${pullSpecFor("all-MiniLM-L6-v2").revision}/tokenizer.json`);
  });
});
