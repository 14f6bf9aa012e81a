import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../common/atomic.js";
import { TriageError } from "../common/errors.js";

/** One file of a model repository. */
export interface PullFile {
  /** Path in the remote repository. */
  remote: string;
  /** Path under the model directory, when it differs from `remote`. */
  local?: string;
  /** Pinned digest; when absent the computed one is recorded in pull-manifest.json. */
  sha256?: string;
  size?: number;
}

/** What to download for one model: a Hugging Face repository at a fixed commit. */
export interface PullSpec {
  /** Directory name under `dest`, also the encoder id suffix (onnx:<name>). */
  name: string;
  repo: string;
  /** A commit sha, so the same files are fetched every time. */
  revision: string;
  files: PullFile[];
}

/**
 * sentence-transformers/all-MiniLM-L6-v2 at a fixed commit. That commit is cited in public code as a
 * snapshot containing onnx/model.onnx; it was not checked from here (no network to huggingface.co).
 * The sentence-transformers repository names its int8 export onnx/model_quint8_avx2.onnx (AVX2 is the
 * most widely supported x86 target, and ONNX Runtime runs it elsewhere too); it is stored as
 * onnx/model_quantized.onnx, the name OnnxEncoder looks for. No SHA-256 is pinned: none could be
 * verified offline, so the first pull records them in pull-manifest.json for pinning here.
 */
const ALL_MINILM_L6_V2 = {
  repo: "sentence-transformers/all-MiniLM-L6-v2",
  revision: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
  common: [
    { remote: "tokenizer.json" },
    { remote: "tokenizer_config.json" },
    { remote: "config.json" },
    { remote: "special_tokens_map.json" },
    { remote: "vocab.txt" },
  ] satisfies PullFile[],
  quantized: { remote: "onnx/model_quint8_avx2.onnx", local: "onnx/model_quantized.onnx" } satisfies PullFile,
  fp32: { remote: "onnx/model.onnx" } satisfies PullFile,
};

export const PULLABLE_MODELS = ["all-MiniLM-L6-v2"] as const;

/** The pinned file list for a model name (`fp32` picks onnx/model.onnx instead of the int8 export). */
export function pullSpecFor(name: string, fp32 = false): PullSpec {
  if (name !== "all-MiniLM-L6-v2") {
    throw new TriageError(`unknown model "${name}"; triage model pull knows: ${PULLABLE_MODELS.join(", ")}`, "E_CONFIG");
  }
  const m = ALL_MINILM_L6_V2;
  return { name, repo: m.repo, revision: m.revision, files: [...m.common, fp32 ? m.fp32 : m.quantized] };
}

export interface PullOptions {
  /** Download onnx/model.onnx (fp32, ~90 MB) instead of the int8 export (~23 MB). */
  fp32?: boolean;
  /** Parent directory; the model lands in `${dest}/${name}`. */
  dest?: string;
  /** Hugging Face compatible server; HF_ENDPOINT points at a mirror. */
  endpoint?: string;
  fetch?: typeof fetch;
  /** Download again even when a file on disk already has the expected digest. */
  force?: boolean;
  /** Progress bars on stderr; default when stderr is a terminal. */
  progress?: boolean;
  /** Where notes go (unpinned digests recorded, files already present). Default: stderr. */
  log?: (line: string) => void;
}

export interface PulledFile {
  file: string;
  source: string;
  sha256: string;
  size: number;
  /** The digest was checked against a pinned value (false: computed and recorded only). */
  pinned: boolean;
  /** Already on disk with the expected digest, so not downloaded. */
  skipped: boolean;
}

export interface PullResult {
  dir: string;
  manifestPath: string;
  files: PulledFile[];
}

interface ManifestEntry {
  file: string;
  source: string;
  sha256: string;
  size: number;
  pinned: boolean;
}

interface PullManifest {
  model: string;
  repo: string;
  revision: string;
  endpoint: string;
  pulledAt: string;
  files: ManifestEntry[];
}

export const PULL_MANIFEST = "pull-manifest.json";

/** `triage model pull <name> [--fp32]`: downloads the pinned files of a known model. */
export async function pullModel(name: string, options: PullOptions = {}): Promise<PullResult> {
  return pullFiles(pullSpecFor(name, options.fp32), options);
}

/**
 * Downloads each file of `spec` from `${endpoint}/${repo}/resolve/${revision}/${file}` into
 * `${dest}/${spec.name}`: streamed to a temp file, checked (size, SHA-256), then renamed into place,
 * so a failed or tampered download never leaves a file behind. Records every digest in pull-manifest.json.
 */
export async function pullFiles(spec: PullSpec, options: PullOptions = {}): Promise<PullResult> {
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? fetch;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = resolve(options.dest ?? "models/encoders", spec.name);
  const manifestPath = join(dir, PULL_MANIFEST);
  const previous = readManifest(manifestPath, spec);
  const progress = makeProgress(options.progress ?? process.stderr.isTTY === true, log);

  const pulled: PulledFile[] = [];
  try {
    for (const f of spec.files) {
      const file = f.local ?? f.remote;
      const dest = join(dir, file);
      const known = f.sha256 ?? previous.get(file)?.sha256;
      if (!options.force && known && existsSync(dest) && (await sha256File(dest)) === known) {
        pulled.push({ file, source: f.remote, sha256: known, size: statSync(dest).size, pinned: Boolean(f.sha256), skipped: true });
        continue;
      }
      const url = `${endpoint}/${spec.repo}/resolve/${spec.revision}/${f.remote.split("/").map(encodeURIComponent).join("/")}`;
      const got = await download(url, dest, f, file, endpoint, fetchImpl, progress);
      pulled.push({ file, source: f.remote, ...got, pinned: Boolean(f.sha256), skipped: false });
    }
  } finally {
    progress?.stop();
  }

  const entries = new Map(previous);
  for (const p of pulled) entries.set(p.file, { file: p.file, source: p.source, sha256: p.sha256, size: p.size, pinned: p.pinned });
  const manifest: PullManifest = {
    model: spec.name,
    repo: spec.repo,
    revision: spec.revision,
    endpoint,
    pulledAt: new Date().toISOString(),
    files: [...entries.values()].filter((e) => existsSync(join(dir, e.file))).sort((a, b) => a.file.localeCompare(b.file)),
  };
  writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

  const unpinned = pulled.filter((p) => !p.pinned && !p.skipped);
  if (unpinned.length > 0) {
    log(`no pinned SHA-256 for ${unpinned.map((p) => p.file).join(", ")}: recorded the computed digests in ${manifestPath}`);
  }
  const skipped = pulled.filter((p) => p.skipped);
  if (skipped.length > 0) log(`already present with the expected digest: ${skipped.map((p) => p.file).join(", ")}`);
  return { dir, manifestPath, files: pulled };
}

async function download(
  url: string,
  dest: string,
  expected: PullFile,
  label: string,
  endpoint: string,
  fetchImpl: typeof fetch,
  progress: Progress | undefined,
): Promise<{ sha256: string; size: number }> {
  // Abort only if the server does not answer at all; the body of a large file may take minutes.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("ETIMEDOUT")), 30_000);
  let res: Response;
  try {
    res = await fetchImpl(url, { redirect: "follow", signal: controller.signal });
  } catch (err) {
    throw new TriageError(
      `cannot reach ${endpoint} (${networkCode(err)}): triage model pull needs network access; set HF_ENDPOINT for a mirror`,
      "E_NETWORK",
    );
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new TriageError(`download failed: GET ${url} returned ${res.status} ${res.statusText}`.trim(), "E_NETWORK");
  }

  const total = Number(res.headers.get("content-length")) || expected.size || 0;
  const bar = progress?.start(label, total);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${randomBytes(6).toString("hex")}.part`);
  const hash = createHash("sha256");
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      bar?.update(size);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(tmp));
    const sha256 = hash.digest("hex");
    if (expected.size !== undefined && size !== expected.size) {
      throw new TriageError(`size mismatch for ${label}: expected ${expected.size} bytes, got ${size}; the download was discarded`, "E_INTEGRITY");
    }
    if (expected.sha256 && sha256 !== expected.sha256) {
      throw new TriageError(`sha256 mismatch for ${label}: expected ${expected.sha256}, got ${sha256}; the download was discarded`, "E_INTEGRITY");
    }
    renameSync(tmp, dest);
    bar?.done(size);
    return { sha256, size };
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof TriageError) throw err;
    throw new TriageError(`download of ${url} was interrupted (${networkCode(err)}); nothing was kept, run the pull again`, "E_NETWORK");
  }
}

interface Progress {
  start(file: string, total: number): { update(bytes: number): void; done(bytes: number): void };
  stop(): void;
}

/** Bars on a terminal; elsewhere (CI logs, pipes) one line per finished file, since bars need a TTY. */
function makeProgress(enabled: boolean, log: (line: string) => void): Progress | undefined {
  if (!enabled) return undefined;
  if (process.stderr.isTTY !== true) {
    return {
      start: (file) => ({ update: () => {}, done: (bytes) => log(`fetched ${file} (${formatBytes(bytes)})`) }),
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    { format: " {file} [{bar}] {percentage}% {value}/{total} bytes", hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (file, total) => {
      const bar = bars.create(total, 0, { file });
      return { update: (bytes) => bar.update(bytes), done: (bytes) => bar.update(bytes) };
    },
    stop: () => bars.stop(),
  };
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

/** The most telling code in a fetch failure: undici wraps the socket error (sometimes in an AggregateError). */
function networkCode(err: unknown): string {
  const seen: unknown[] = [];
  let e: unknown = err;
  while (e && typeof e === "object" && !seen.includes(e)) {
    seen.push(e);
    const o = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof o.code === "string") return o.code;
    if (Array.isArray(o.errors) && o.errors.length > 0) e = o.errors[0];
    else e = o.cause;
  }
  const msg = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return msg.split("\n")[0];
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Digests from an earlier pull of the same repo and revision; anything else is ignored. */
function readManifest(path: string, spec: PullSpec): Map<string, ManifestEntry> {
  const out = new Map<string, ManifestEntry>();
  if (!existsSync(path)) return out;
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as Partial<PullManifest>;
    if (m.repo !== spec.repo || m.revision !== spec.revision || !Array.isArray(m.files)) return out;
    for (const e of m.files) {
      if (typeof e.file === "string" && typeof e.sha256 === "string" && /^[0-9a-f]{64}$/.test(e.sha256)) out.set(e.file, e);
    }
  } catch {
    // A damaged manifest only means every file is downloaded again.
  }
  return out;
}
