/**
 * @module encoders/pull
 * `triage model pull`: downloads an encoder with @huggingface/transformers' own hub code (its URL
 * scheme, its choice of files for a dtype, its cache layout) at a pinned commit, then adds what the
 * library does not do: SHA-256 digests checked and recorded, and nothing unchecked in the model folder.
 *
 * The library downloads into a staging folder beside the model folder, through pull-cache.ts (temp
 * file + rename; writes still running are awaited before the folder is removed). Each staged file is
 * hashed and checked against a pinned digest, or against the digest an earlier pull of the same
 * revision recorded; only then is it renamed into <dest>/<repo>/<revision>/,
 * the library's own cache layout, and the digests are written to pull-manifest.json. Files already
 * there with their recorded digest are linked into the staging folder first, so the library finds them
 * cached and fetches nothing for them.
 */
import { createHash } from "node:crypto";
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../../common/atomic.js";
import { TriageError } from "../../common/errors.js";
import { importLibrary, withHubEnv } from "./hf-env.js";
import { ENCODERS_DIR, MINILM, PULL_MANIFEST } from "./files.js";
import { cpuSessionOptions } from "./run.js";
import { StagingCache } from "./pull-cache.js";
import { networkCode, watchFetch, type FetchWatch } from "./pull-fetch.js";

export { PULL_MANIFEST } from "./files.js";

export const PULLABLE_MODELS = [MINILM.name] as const;
/** The library's dtype names for the two files the ONNX encoder runs: q8 = onnx/model_quantized.onnx, fp32 = onnx/model.onnx. */
export const PULL_DTYPES = ["q8", "fp32"] as const;
export type PullDtype = (typeof PULL_DTYPES)[number];

/** What to download: a Hugging Face repository at a fixed commit, in one dtype. */
export interface PullSpec {
  /** Encoder name, recorded in pull-manifest.json; the encoder id becomes onnx:<name>. */
  name: string;
  repo: string;
  /** A commit sha, so the same files are fetched every time. */
  revision: string;
  dtype: PullDtype;
  /** SHA-256 per file path in the repository; a pinned file that differs is refused. */
  sha256?: Readonly<Record<string, string>>;
}

/** The pinned spec for a model name: repository, commit and each file's SHA-256 (files.ts). */
export function pullSpecFor(name: string, dtype: PullDtype = "q8"): PullSpec {
  if (name !== MINILM.name) {
    throw new TriageError(`unknown model "${name}"; triage model pull knows: ${PULLABLE_MODELS.join(", ")}`, "E_CONFIG");
  }
  if (!PULL_DTYPES.includes(dtype)) throw new TriageError(`unknown dtype "${dtype}"; use one of: ${PULL_DTYPES.join(", ")}`, "E_CONFIG");
  return { name, repo: MINILM.repo, revision: MINILM.revision, dtype, sha256: MINILM.sha256 };
}

export interface PullOptions {
  /** q8 (default, ~23 MB) or fp32 (~90 MB). */
  dtype?: PullDtype;
  /** Same as dtype "fp32". */
  fp32?: boolean;
  /** The cache root; the model lands in `${dest}/${repo}/${revision}`. */
  dest?: string;
  /** Hugging Face compatible server; HF_ENDPOINT points at a mirror. */
  endpoint?: string;
  fetch?: typeof fetch;
  /** Download again even when a file on disk has its recorded digest. */
  force?: boolean;
  /** Progress on stderr (bars on a terminal, one line per file elsewhere); default when stderr is a terminal. */
  progress?: boolean;
  /** Where notes go (digests recorded, files already present). Default: stderr. */
  log?: (line: string) => void;
}

export interface PulledFile {
  /** Path in the repository and under the model folder. */
  file: string;
  sha256: string;
  size: number;
  /** Checked against a digest pinned in code (false: computed, and checked against earlier pulls). */
  pinned: boolean;
  /** Already in the model folder with its recorded digest, so not downloaded. */
  skipped: boolean;
}

export interface PullResult {
  dir: string;
  manifestPath: string;
  files: PulledFile[];
}

interface ManifestEntry {
  file: string;
  sha256: string;
  size: number;
  pinned: boolean;
}

interface PullManifest {
  model: string;
  repo: string;
  revision: string;
  dtype: PullDtype;
  endpoint: string;
  library: string;
  pulledAt: string;
  files: ManifestEntry[];
}

/** `triage model pull <name> [--dtype q8|fp32]`. */
export async function pullModel(name: string, options: PullOptions = {}): Promise<PullResult> {
  return pullFiles(pullSpecFor(name, options.fp32 ? "fp32" : (options.dtype ?? "q8")), options);
}

export async function pullFiles(spec: PullSpec, options: PullOptions = {}): Promise<PullResult> {
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = resolve(options.dest ?? ENCODERS_DIR);
  const dir = join(root, spec.repo, spec.revision);
  const manifestPath = join(dir, PULL_MANIFEST);
  const recorded = readManifest(manifestPath, spec);
  const progress = options.progress ?? process.stderr.isTTY === true;

  await importLibrary(); // without the optional library: one line, and no folder made
  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(join(root, ".pull-"));
  const stagedDir = join(staging, spec.repo, spec.revision);
  const cache = new StagingCache(`${endpoint}/${spec.repo}/resolve/${spec.revision}/`, stagedDir);
  try {
    const kept = options.force ? new Set<string>() : await seedStaging(spec, dir, stagedDir, recorded);
    const watch = watchFetch(options.fetch ?? fetch);
    const library = await runLibrary(spec, endpoint, cache, watch, progress && process.stderr.isTTY === true);
    const loaded = new Set(listFiles(stagedDir).filter((f) => library.files.has(f)));

    const pulled: PulledFile[] = [];
    for (const file of loaded) {
      const path = join(stagedDir, file);
      const sha256 = await sha256File(path);
      const pin = spec.sha256?.[file];
      const want = pin ?? recorded.get(file)?.sha256;
      if (want && want !== sha256) {
        throw new TriageError(
          `sha256 mismatch for ${file}: expected ${want} (${pin ? "pinned" : `recorded in ${manifestPath}`}), got ${sha256}; the download was discarded`,
          "E_INTEGRITY",
        );
      }
      pulled.push({ file, sha256, size: statSync(path).size, pinned: Boolean(pin), skipped: kept.has(file) });
    }

    // Every file is checked; only now does anything reach the model folder, one rename per file.
    for (const p of pulled.filter((f) => !f.skipped)) {
      mkdirSync(dirname(join(dir, p.file)), { recursive: true });
      renameSync(join(stagedDir, p.file), join(dir, p.file));
      if (progress && process.stderr.isTTY !== true) log(`fetched ${p.file} (${formatBytes(p.size)})`);
    }
    const entries = new Map(recorded);
    for (const p of pulled) entries.set(p.file, { file: p.file, sha256: p.sha256, size: p.size, pinned: p.pinned });
    const manifest: PullManifest = {
      model: spec.name,
      repo: spec.repo,
      revision: spec.revision,
      dtype: spec.dtype,
      endpoint,
      library: `@huggingface/transformers ${library.version}`,
      pulledAt: new Date().toISOString(),
      files: [...entries.values()].filter((e) => existsSync(join(dir, e.file))).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    };
    writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

    const fresh = pulled.filter((p) => !p.pinned && !p.skipped && !recorded.has(p.file));
    if (fresh.length > 0) log(`no pinned SHA-256 for ${fresh.map((p) => p.file).join(", ")}: recorded the digests in ${manifestPath}; later pulls check against them`);
    const skipped = pulled.filter((p) => p.skipped);
    if (skipped.length > 0) log(`already present with the recorded digest: ${skipped.map((p) => p.file).join(", ")}`);
    return { dir, manifestPath, files: pulled };
  } finally {
    // When one download fails the library stops waiting for the others; they may still be writing.
    await cache.close();
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Runs the library's own download: the feature-extraction pipeline for the repo at the pinned revision,
 * which fetches exactly the files that pipeline needs in that dtype and proves they load. Returns the
 * library's version and the files the pipeline loaded (downloaded or found in the cache).
 */
async function runLibrary(spec: PullSpec, endpoint: string, cache: StagingCache, watch: FetchWatch, bars: boolean): Promise<{ version: string; files: Set<string> }> {
  const settings = {
    remoteHost: `${endpoint}/`,
    // The revision is written into the path template, not only passed as an option: pipeline() lists a
    // model's files (config.json, tokenizer_config.json) without passing the revision on, so those requests
    // would go to `main` (huggingface/transformers.js#1751). A custom cache is keyed by these URLs.
    remotePathTemplate: `{model}/resolve/${spec.revision}/`,
    allowRemoteModels: true,
    allowLocalModels: false,
    useCustomCache: true,
    customCache: cache,
    fetch: watch.fetch,
  };
  return withHubEnv(settings, async ({ pipeline, env }) => {
    const bar = bars ? progressBars() : undefined;
    const files = new Set<string>();
    const onProgress = (info: ProgressEvent) => {
      if (info.status === "done" && info.file) files.add(info.file);
      bar?.update(info);
    };
    try {
      const extractor = await pipeline("feature-extraction", spec.repo, {
        revision: spec.revision,
        dtype: spec.dtype,
        device: "cpu",
        session_options: cpuSessionOptions(1),
        progress_callback: onProgress,
      });
      await extractor.dispose();
    } catch (err) {
      throw pullError(err, watch, endpoint, spec);
    } finally {
      bar?.stop();
    }
    return { version: env.version, files };
  });
}

/** One line for what went wrong, from what the fetch wrapper saw. */
function pullError(err: unknown, watch: FetchWatch, endpoint: string, spec: PullSpec): TriageError {
  if (err instanceof TriageError) return err;
  if (watch.unreachable) {
    return new TriageError(`cannot reach ${endpoint} (${networkCode(watch.unreachable.error)}): triage model pull needs network access; set HF_ENDPOINT for a mirror`, "E_NETWORK");
  }
  if (watch.interrupted) {
    const file = watch.interrupted.url.split(`/resolve/${spec.revision}/`)[1] ?? watch.interrupted.url;
    return new TriageError(`download of ${file} was interrupted (${networkCode(watch.interrupted.error)}); nothing was kept, run the pull again`, "E_NETWORK");
  }
  const message = err instanceof Error ? err.message : String(err);
  const url = /"(https?:\/\/[^"]+)"/.exec(message)?.[1];
  const status = url ? watch.failed.get(url) : undefined;
  if (url && status) return new TriageError(`download failed: GET ${url} returned ${status}`, "E_NETWORK");
  return new TriageError(`cannot pull ${spec.repo}@${spec.revision} (${spec.dtype}): ${message.split("\n")[0]}`, "E_MODEL_INVALID");
}

/**
 * Links files already in the model folder with their recorded digest into the staging folder, where
 * the staging cache finds them. Returns the files reused.
 */
async function seedStaging(spec: PullSpec, dir: string, stagedDir: string, recorded: Map<string, ManifestEntry>): Promise<Set<string>> {
  const kept = new Set<string>();
  for (const [file, entry] of recorded) {
    const path = join(dir, file);
    const want = spec.sha256?.[file] ?? entry.sha256;
    if (!existsSync(path) || (await sha256File(path)) !== want) continue;
    const target = join(stagedDir, file);
    mkdirSync(dirname(target), { recursive: true });
    try {
      linkSync(path, target);
    } catch {
      copyFileSync(path, target); // a file system without hard links
    }
    kept.add(file);
  }
  return kept;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split("\\").join("/"))
    .sort();
}

/** The fields of the library's progress events that the pull reads. */
interface ProgressEvent {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
}

/** Bars on a terminal, fed by the library's progress events. */
function progressBars() {
  const bars = new cliProgress.MultiBar(
    { format: " {file} [{bar}] {percentage}% {value}/{total} bytes", hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const byFile = new Map<string, cliProgress.SingleBar>();
  const update = (info: ProgressEvent) => {
    if (info.status !== "progress" || !info.file || !info.total) return;
    let bar = byFile.get(info.file);
    if (!bar) byFile.set(info.file, (bar = bars.create(info.total, 0, { file: info.file })));
    bar.update(info.loaded ?? 0);
  };
  return { update, stop: () => bars.stop() };
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
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
