/**
 * `triage model pull` through @huggingface/transformers' hub code, against a local server posing as
 * the Hub (the library's remoteHost setting): pinned revision, the library's cache layout, q8/fp32,
 * digests recorded and checked, nothing unchecked left behind, one line when offline.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { env } from "@huggingface/transformers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OnnxEncoder, findOnnxModel } from "../../../src/encoders/onnx/encoder.js";
import { PipelineEncoder } from "../../../src/encoders/onnx/pipeline.js";
import { PULL_MANIFEST, pullFiles, pullModel, pullSpecFor, type PullOptions, type PullSpec } from "../../../src/encoders/onnx/pull.js";
import { TINY_VOCAB, buildTinyModel, tinyTokenizerJson } from "../../helpers/tiny-onnx.js";
import { CLI } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/temp.js";

const sha = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");
const root = tempDir("triage-pull-");
let n = 0;
const freshDest = () => join(root, `dest-${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = pullSpecFor("all-MiniLM-L6-v2");
const base = `${spec.repo}/resolve/${spec.revision}`;
const modelDir = (dest: string) => join(dest, spec.repo, spec.revision);

/**
 * `pullModel` with MiniLM's pinned digests left out: the local hub serves a tiny model in MiniLM's place,
 * so these tests check what a pull does with digests it records (the pins are tested on their own below).
 */
const pullTiny = (options: PullOptions) => pullFiles({ ...pullSpecFor("all-MiniLM-L6-v2", options.fp32 ? "fp32" : (options.dtype ?? "q8")), sha256: {} }, options);

/**
 * A Hugging Face look-alike serving files only under /<repo>/resolve/<pinned revision>/ (a request for
 * `main` gets 404), ONNX files through a redirect like the Hub's LFS, and byte ranges like the Hub.
 */
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
      if (url.startsWith("/cdn/")) return this.send(res, decodeURIComponent(url.slice("/cdn/".length)), req.headers.range);
      const key = decodeURIComponent(url.slice(1));
      if (key.endsWith(".onnx") && this.files.has(key)) {
        res.writeHead(302, { location: `/cdn/${encodeURIComponent(key)}` });
        return res.end();
      }
      this.send(res, key, req.headers.range);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private send(res: ServerResponse, key: string, range: string | undefined) {
    const body = this.files.get(key);
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end("Entry not found");
    }
    const bytes = Buffer.from(body);
    if (range === "bytes=0-0") {
      res.writeHead(206, { "content-length": "1", "content-range": `bytes 0-0/${bytes.length}` });
      return res.end(bytes.subarray(0, 1));
    }
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

/** Every file under dir, recursively (to catch stray temp files and staging folders). */
function listAll(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const quiet = { progress: false, log: () => {} };

describe("pullModel through the library's hub code, against a local hub", () => {
  const hub = new FakeHub();
  const tiny = buildTinyModel({ vocabSize: TINY_VOCAB.length, dim: 8, tokenTypes: true });
  const tinyFp32 = buildTinyModel({ vocabSize: TINY_VOCAB.length, dim: 8, tokenTypes: true, seed: 99 });
  const tokenizer = JSON.stringify(tinyTokenizerJson());
  const serveAll = () => {
    hub.files.set(`${base}/config.json`, JSON.stringify({ model_type: "bert", hidden_size: 8, max_position_embeddings: 512 }));
    hub.files.set(`${base}/tokenizer.json`, tokenizer);
    hub.files.set(
      `${base}/tokenizer_config.json`,
      JSON.stringify({
        do_lower_case: true,
        model_max_length: 512,
        tokenizer_class: "BertTokenizer",
        pad_token: "[PAD]",
        cls_token: "[CLS]",
        sep_token: "[SEP]",
        unk_token: "[UNK]",
      }),
    );
    hub.files.set(`${base}/onnx/model_quantized.onnx`, tiny.bytes);
    hub.files.set(`${base}/onnx/model.onnx`, tinyFp32.bytes);
  };

  beforeAll(async () => {
    await hub.start();
    serveAll();
  });
  afterAll(() => hub.stop());
  afterEach(() => {
    hub.requests = [];
    hub.truncate.clear();
    serveAll();
  });

  it("fetches the pinned revision's q8 files into <dest>/<repo>/<revision>, records their digests, and the folder loads both ways", async () => {
    const dest = freshDest();
    const notes: string[] = [];
    const remoteHost = env.remoteHost;
    const result = await pullTiny({ dest, endpoint: hub.endpoint, progress: false, log: (l) => notes.push(l) });
    expect(env.remoteHost).toBe(remoteHost);

    const dir = modelDir(dest);
    expect(result.dir).toBe(dir);
    // The library's cache layout, and nothing else: no staging folder, no temp file, no unpinned copy.
    expect(listAll(dest)).toEqual(
      ["config.json", "onnx/model_quantized.onnx", PULL_MANIFEST, "tokenizer.json", "tokenizer_config.json"].map((f) => `${spec.repo}/${spec.revision}/${f}`).sort(),
    );
    expect(readFileSync(join(dir, "onnx", "model_quantized.onnx"))).toEqual(Buffer.from(tiny.bytes));
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hub.requests.filter((r) => !r.startsWith(`/${base}/`) && !r.startsWith("/cdn/"))).toEqual([]);

    const manifest = JSON.parse(readFileSync(result.manifestPath, "utf8"));
    expect(manifest).toMatchObject({ model: "all-MiniLM-L6-v2", repo: "Xenova/all-MiniLM-L6-v2", revision: spec.revision, dtype: "q8", endpoint: hub.endpoint });
    expect(manifest.library).toMatch(/^@huggingface\/transformers \d+\.\d+\.\d+$/);
    expect(manifest.files.find((f: { file: string }) => f.file === "onnx/model_quantized.onnx")).toEqual({
      file: "onnx/model_quantized.onnx",
      sha256: sha(tiny.bytes),
      size: tiny.bytes.length,
      pinned: false,
    });
    expect(notes.join("\n")).toMatch(/no pinned SHA-256 for .*onnx\/model_quantized\.onnx.*: recorded the digests in .*pull-manifest\.json; later pulls check against them/);

    expect(findOnnxModel(dir)).toBe(dir);
    const direct = await OnnxEncoder.load(dir, { threads: 1 });
    const lib = await PipelineEncoder.load(dir, { threads: 1 });
    try {
      expect(direct.id).toBe("onnx:all-MiniLM-L6-v2");
      expect(lib.id).toBe(direct.id);
      const [a, b] = [(await direct.embed(["hello world"]))[0], (await lib.embed(["hello world"]))[0]];
      expect(a).toHaveLength(8);
      expect(a.reduce((s, x, k) => s + x * b[k], 0)).toBeGreaterThan(0.9999);
    } finally {
      await direct.close();
      await lib.close();
    }
  });

  it("fetches onnx/model.onnx for fp32 and nothing it already holds; a file changed on disk is fetched again", async () => {
    const dest = freshDest();
    await pullTiny({ dest, endpoint: hub.endpoint, ...quiet });
    hub.requests = [];
    const again = await pullTiny({ dest, endpoint: hub.endpoint, ...quiet, dtype: "fp32" });
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hub.requests.filter((r) => !r.includes("onnx%2Fmodel.onnx") && !r.endsWith("/onnx/model.onnx"))).toEqual([]);
    expect(again.files.filter((f) => f.skipped).map((f) => f.file)).toEqual(["config.json", "tokenizer.json", "tokenizer_config.json"]);
    const manifest = JSON.parse(readFileSync(again.manifestPath, "utf8"));
    expect(manifest.dtype).toBe("fp32");
    expect(manifest.files.map((f: { file: string }) => f.file)).toEqual(["config.json", "onnx/model.onnx", "onnx/model_quantized.onnx", "tokenizer.json", "tokenizer_config.json"]);

    hub.requests = [];
    await pullTiny({ dest, endpoint: hub.endpoint, ...quiet, fp32: true });
    expect(hub.requests).toEqual([]);

    writeFileSync(join(again.dir, "tokenizer.json"), "tampered");
    hub.requests = [];
    await pullTiny({ dest, endpoint: hub.endpoint, ...quiet });
    expect(hub.requests).toEqual([`/${base}/tokenizer.json`]);
    expect(readFileSync(join(again.dir, "tokenizer.json"), "utf8")).toBe(tokenizer);
  });

  it("refuses a download that differs from the digest an earlier pull of the revision recorded, and replaces nothing", async () => {
    const dest = freshDest();
    await pullTiny({ dest, endpoint: hub.endpoint, ...quiet });
    const before = listAll(dest);
    const manifestPath = join(modelDir(dest), PULL_MANIFEST);
    hub.files.set(`${base}/tokenizer.json`, JSON.stringify({ ...tinyTokenizerJson(), version: "tampered" }));
    await expect(pullTiny({ dest, endpoint: hub.endpoint, ...quiet, force: true })).rejects.toThrow(
      new RegExp(
        `^sha256 mismatch for tokenizer\\.json: expected ${sha(tokenizer)} \\(recorded in ${manifestPath.replace(/[.\\/]/g, "\\$&")}\\), got [0-9a-f]{64}; the download was discarded$`,
      ),
    );
    expect(listAll(dest)).toEqual(before);
    expect(readFileSync(join(modelDir(dest), "tokenizer.json"), "utf8")).toBe(tokenizer);
  });

  it("checks pinned digests: a match passes, a mismatch is refused and leaves no file behind", async () => {
    const pinned = (digest: string): PullSpec => ({ ...spec, name: "pinned", sha256: { "tokenizer.json": digest, "onnx/model_quantized.onnx": sha(tiny.bytes) } });
    const ok = await pullFiles(pinned(sha(tokenizer)), { dest: freshDest(), endpoint: hub.endpoint, ...quiet });
    expect(ok.files.filter((f) => f.pinned).map((f) => f.file)).toEqual(["onnx/model_quantized.onnx", "tokenizer.json"]);

    const bad = freshDest();
    const wrong = "0".repeat(64);
    await expect(pullFiles(pinned(wrong), { dest: bad, endpoint: hub.endpoint, ...quiet })).rejects.toThrow(
      `sha256 mismatch for tokenizer.json: expected ${wrong} (pinned), got ${sha(tokenizer)}; the download was discarded`,
    );
    expect(listAll(bad)).toEqual([]);
  });

  it("keeps nothing of a download cut off half way, and keeps the earlier good file", async () => {
    const dest = freshDest();
    await pullTiny({ dest, endpoint: hub.endpoint, ...quiet });
    const before = listAll(dest);
    hub.truncate.add(`${base}/onnx/model_quantized.onnx`);
    await expect(pullTiny({ dest, endpoint: hub.endpoint, ...quiet, force: true })).rejects.toThrow(
      /^download of onnx\/model_quantized\.onnx was interrupted \(.+\); nothing was kept, run the pull again$/,
    );
    expect(listAll(dest)).toEqual(before);
    expect(readFileSync(join(modelDir(dest), "onnx", "model_quantized.onnx"))).toEqual(Buffer.from(tiny.bytes));
  });

  it("reports a file missing on the hub with the URL and status", async () => {
    hub.files.delete(`${base}/onnx/model.onnx`);
    const dest = freshDest();
    await expect(pullTiny({ dest, endpoint: hub.endpoint, ...quiet, dtype: "fp32" })).rejects.toThrow(
      `download failed: GET ${hub.endpoint}/${base}/onnx/model.onnx returned 404 Not Found`,
    );
    expect(listAll(dest)).toEqual([]);
  });

  it("pulls MiniLM itself only if each file has its pinned digest: the hub's stand-in files are refused, and nothing is kept", async () => {
    const dest = freshDest();
    await expect(pullModel("all-MiniLM-L6-v2", { dest, endpoint: hub.endpoint, ...quiet })).rejects.toThrow(
      /^sha256 mismatch for \S+: expected [0-9a-f]{64} \(pinned\), got [0-9a-f]{64}; the download was discarded$/,
    );
    expect(listAll(dest)).toEqual([]);
  });

  it("has a pinned digest for every file a q8 or fp32 pull fetches", async () => {
    const dest = freshDest();
    await pullTiny({ dest, endpoint: hub.endpoint, ...quiet });
    const all = await pullTiny({ dest, endpoint: hub.endpoint, ...quiet, dtype: "fp32" });
    const fetched = (JSON.parse(readFileSync(all.manifestPath, "utf8")) as { files: { file: string }[] }).files.map((f) => f.file);
    expect(Object.keys(pullSpecFor("all-MiniLM-L6-v2").sha256 ?? {}).sort()).toEqual(fetched.sort());
  });

  it("reports progress as one line per fetched file when stderr is not a terminal", async () => {
    const lines: string[] = [];
    await pullTiny({ dest: freshDest(), endpoint: hub.endpoint, progress: true, log: (l) => lines.push(l) });
    const fetched = lines.filter((l) => l.startsWith("fetched "));
    expect(fetched).toHaveLength(4);
    expect(fetched).toContain(`fetched onnx/model_quantized.onnx (${(tiny.bytes.length / 1e3).toFixed(1)} kB)`);
  });
});

/** A loopback port nothing listens on. */
async function closedEndpoint(): Promise<string> {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
  return endpoint;
}

describe("pullModel without a reachable endpoint", () => {
  it("fails with one line naming the endpoint and the socket error, and writes nothing", async () => {
    const endpoint = await closedEndpoint();
    const dest = freshDest();
    const err = await pullModel("all-MiniLM-L6-v2", { dest, endpoint, ...quiet }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`cannot reach ${endpoint} (ECONNREFUSED): triage model pull needs network access; set HF_ENDPOINT for a mirror`);
    expect(listAll(dest)).toEqual([]);
  });

  it("names the DNS error code undici reports", async () => {
    const dnsFailure: typeof fetch = async () => {
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("getaddrinfo ENOTFOUND huggingface.co"), { code: "ENOTFOUND" }) });
    };
    await expect(pullModel("all-MiniLM-L6-v2", { dest: freshDest(), endpoint: "https://huggingface.co", fetch: dnsFailure, ...quiet })).rejects.toThrow(
      /^cannot reach https:\/\/huggingface\.co \(ENOTFOUND\): triage model pull needs network access; set HF_ENDPOINT for a mirror$/,
    );
  });

  it("rejects an unknown model name or dtype, listing the known ones", async () => {
    await expect(pullModel("bert-large", { dest: freshDest(), progress: false })).rejects.toThrow('unknown model "bert-large"; triage model pull knows: all-MiniLM-L6-v2');
    expect(() => pullSpecFor("all-MiniLM-L6-v2", "q4" as "q8")).toThrow('unknown dtype "q4"; use one of: q8, fp32');
  });

  it("reads HF_ENDPOINT when no endpoint is given, and asks only for the pinned revision", async () => {
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
    expect(seen.length).toBeGreaterThan(0);
    for (const url of seen) expect(url.startsWith(`http://127.0.0.1:9/Xenova/all-MiniLM-L6-v2/resolve/${spec.revision}/`)).toBe(true);
  });

  it("the triage model pull command (here --dtype fp32) prints that one line and exits 1", async () => {
    const endpoint = await closedEndpoint();
    const dest = freshDest();
    const r = await promisify(execFile)(process.execPath, [...CLI, "model", "pull", "all-MiniLM-L6-v2", "--dtype", "fp32", "--dest", dest], {
      env: { ...process.env, HF_ENDPOINT: endpoint },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`triage: cannot reach ${endpoint} (ECONNREFUSED): triage model pull needs network access; set HF_ENDPOINT for a mirror\n`);
    expect(listAll(dest)).toEqual([]);
  });

  it("without @huggingface/transformers (an optional peer dependency), says how to install it, in one line, and writes nothing", async () => {
    const dest = freshDest();
    const hide = join(import.meta.dirname, "..", "..", "helpers", "hide-packages.mjs");
    const r = await promisify(execFile)(
      process.execPath,
      [...CLI.slice(0, -1), "--import", pathToFileURL(hide).href, ...CLI.slice(-1), "model", "pull", "all-MiniLM-L6-v2", "--dest", dest],
      {
        env: { ...process.env, TRIAGE_TEST_HIDE: "@huggingface/transformers", HF_ENDPOINT: await closedEndpoint() },
      },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "triage: @huggingface/transformers is not installed; it downloads models, and triage leaves it out of its own install: npm install @huggingface/transformers@^4\n",
    );
    expect(existsSync(dest)).toBe(false);
  });
});
