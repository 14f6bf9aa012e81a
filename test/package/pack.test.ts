/**
 * @module The package as a consumer gets it. `npm pack` of a copy of the working tree (so the build that
 * `prepare` runs never touches the repo's dist/), installed into an empty folder with the README's install
 * command (dependencies from the npm registry, native modules compiled), then the installed `triage`
 * (train, route, serve + GET /healthz) and a TypeScript file that imports the public API, type-checked
 * with `skipLibCheck: false` and run. Takes minutes; TRIAGE_SKIP_PACKAGE_TEST=1 skips it, except in CI
 * (CI set, and not 0 or false). Each step has its own timeout (about 45 min in all; a run takes about 4).
 * Everything it writes is under one temp folder, apart from npm's own download cache.
 */
import { execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/temp.js";

const REPO = join(import.meta.dirname, "..", "..");
const MINUTE = 60_000;
const inCI = /^(?!0$|false$).+/i.test(process.env.CI ?? "");
const skip = process.env.TRIAGE_SKIP_PACKAGE_TEST === "1" && !inCI;
if (skip) process.stderr.write("package test skipped (TRIAGE_SKIP_PACKAGE_TEST=1)\n");

/** The README's consumer install line (```bash block), split into its env assignments and npm's arguments. */
function documentedInstall(): { env: Record<string, string>; args: string[] } {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  const line = blocks.flatMap((b) => b.split("\n")).find((l) => /(^|\s)npm install triage-router(\s|$)/.test(l));
  if (!line) throw new Error("README.md: no `npm install triage-router` line in a ```bash block");
  const words = line.replace(/#.*/, "").trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [key, value] = (words.shift() as string).split("=", 2);
    env[key] = value;
  }
  if (words.shift() !== "npm") throw new Error(`README.md: the install line does not run npm: ${line}`);
  return { env, args: words };
}

/**
 * The environment a consumer's shell would have: none of the npm_* variables of the `npm test` running us,
 * and no ONNXRUNTIME_NODE_INSTALL from .ci/run (the install must work with the README's command alone).
 */
function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([k]) => !/^(npm_|ONNXRUNTIME_NODE_INSTALL)/i.test(k) && k !== "INIT_CWD" && k !== "TRIAGE_CACHE");
  return { ...Object.fromEntries(inherited), npm_config_yes: "false", ...extra };
}

const exec = promisify(execFile);
async function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env = consumerEnv()): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; killed?: boolean; message: string };
    const why = e.killed ? `timed out after ${timeoutMs / MINUTE} min` : e.message;
    throw new Error(`\`${cmd} ${args.join(" ")}\` in ${cwd}: ${why}\n${(e.stderr || e.stdout || "").slice(-3000)}`);
  }
}

/** Copies the listed files (repo-relative), so the copy holds what a clone with these edits would. */
function copyFiles(rels: readonly string[], to: string): void {
  for (const rel of rels) {
    const from = join(REPO, rel);
    if (!existsSync(from) || !lstatSync(from).isFile()) continue; // deleted in the tree, or the node_modules link
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    copyFileSync(from, join(to, rel));
  }
  symlinkSync(realpathSync(join(REPO, "node_modules")), join(to, "node_modules"), "dir"); // for the build's tsc
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

let stage: string;
let consumer: string;
let packed: PackResult;

describe.skipIf(skip)("the npm package", () => {
  beforeAll(async () => {
    stage = tempDir("triage-pack-");
    const tree = join(stage, "tree");
    // Tracked files and untracked ones that are not ignored: the working tree, without builds or caches.
    const listed = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO, MINUTE);
    copyFiles(listed.stdout.split("\0").filter(Boolean), tree);
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", stage], tree, 4 * MINUTE);
    packed = (JSON.parse(stdout) as PackResult[])[0];
    process.stderr.write(`package: ${packed.filename}, ${packed.entryCount} files, ${packed.size} bytes (${packed.unpackedSize} unpacked)\n`);

    consumer = join(stage, "consumer");
    mkdirSync(consumer);
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
    const install = documentedInstall();
    const args = install.args.map((a) => (a === "triage-router" ? join(stage, packed.filename) : a));
    await run("npm", args, consumer, 15 * MINUTE, consumerEnv(install.env));
  }, 20 * MINUTE);

  afterAll(() => {
    if (stage) rmSync(stage, { recursive: true, force: true });
  });

  it("ships compiled JavaScript, its types, the CLI and the example data; no sources, tests or build config", () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "dist/train/head-worker.js",
      "bin/triage.js",
      "data/tiers/train.jsonl",
      "data/tiers/tiers.yaml",
      "assets/dashboard/dashboard.js",
      "assets/dashboard/dashboard.css",
    ])
      expect(paths).toContain(p);
    const unwanted = paths.filter((p) => /^(src|test|scripts|\.ci)\//.test(p) || /^tsconfig|^vitest|\.map$|^\.npmrc$/.test(p));
    expect(unwanted).toEqual([]);
  });

  it("installs its runtime dependencies only: no tsx, no esbuild, no @huggingface/transformers (optional), and no CUDA download on linux/x64", () => {
    const modules = join(consumer, "node_modules");
    expect(existsSync(join(modules, "triage-router", "dist", "cli", "main.js"))).toBe(true);
    expect(existsSync(join(modules, "tsx"))).toBe(false);
    expect(existsSync(join(modules, "esbuild"))).toBe(false);
    expect(existsSync(join(modules, "@huggingface", "transformers"))).toBe(false);
    expect(existsSync(join(modules, "onnxruntime-web"))).toBe(false);
    expect(existsSync(join(modules, "onnxruntime-node", "bin", "napi-v6", "linux", "x64", "libonnxruntime_providers_cuda.so"))).toBe(false);
  });

  it(
    "npx triage train (head workers on threads, no fallback) then route, on the shipped example data",
    async () => {
      const data = join(consumer, "node_modules", "triage-router", "data", "tiers");
      const trained = await run(
        "npx",
        ["triage", "train", "--data", join(data, "train.jsonl"), "--config", join(data, "tiers.yaml"), "--encoder", "use", "--folds", "3", "--out", "model", "--json"],
        consumer,
        8 * MINUTE,
        consumerEnv({ TRIAGE_TRAIN_THREADS: "2" }), // a worker pool even on one core
      );
      expect(trained.stderr).not.toMatch(/calling thread|worker failed/);
      expect(existsSync(join(consumer, "model", "manifest.json"))).toBe(true);

      const routed = await run("npx", ["triage", "route", "--model", "model", "Prove that there are infinitely many primes."], consumer, 2 * MINUTE);
      const decision = JSON.parse(routed.stdout.trim().split("\n")[0]) as { label: string; confidence: number };
      expect(["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]).toContain(decision.label);
      expect(decision.confidence).toBeGreaterThan(0);
    },
    10 * MINUTE,
  );

  it(
    "npx triage model pull, without the optional @huggingface/transformers, says how to install it in one line",
    async () => {
      const failed = await run("npx", ["triage", "model", "pull", "all-MiniLM-L6-v2", "--dest", "encoders"], consumer, 2 * MINUTE).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(failed).toContain(
        "triage: @huggingface/transformers is not installed; it downloads models, and triage leaves it out of its own install: npm install @huggingface/transformers@^4",
      );
      expect(existsSync(join(consumer, "encoders"))).toBe(false);
    },
    3 * MINUTE,
  );

  it(
    "npx triage serve answers GET /healthz with the model's labels",
    async () => {
      const child = spawn("npx", ["triage", "serve", "--model", "model", "--port", "0"], { cwd: consumer, env: consumerEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      try {
        const port = await new Promise<number>((resolve, reject) => {
          createInterface({ input: child.stdout }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
          child.once("exit", (code) => reject(new Error(`triage serve exited (${code}) before listening: ${stderr}`)));
          setTimeout(() => reject(new Error(`triage serve not listening after 2 min: ${stderr}`)), 2 * MINUTE).unref();
        });
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(30_000) });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { status: string; labels: string[] };
        expect(body.status).toBe("ok");
        expect(body.labels).toEqual(["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]);
        // The dashboard and its assets come from the install: uPlot from its npm package, its own from assets/.
        expect((await fetch(`http://127.0.0.1:${port}/dashboard`, { signal: AbortSignal.timeout(30_000) })).status).toBe(200);
        for (const a of ["dashboard.css", "dashboard.js", "uPlot.min.js", "uPlot.min.css"])
          expect((await fetch(`http://127.0.0.1:${port}/dashboard/assets/${a}`, { signal: AbortSignal.timeout(30_000) })).status, a).toBe(200);
      } finally {
        if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, "SIGTERM"); // npx and the server it started
        await exited;
      }
    },
    3 * MINUTE,
  );

  it(
    "a TypeScript consumer imports the public API, type-checks with skipLibCheck: false, and runs",
    async () => {
      writeFileSync(
        join(consumer, "consumer.ts"),
        [
          'import { DecisionLog, readManifest, Router, type Decision, type Manifest } from "triage-router";',
          'const manifest: Manifest = readManifest("model");',
          'const router = await Router.load("model");',
          'const decision: Decision = await router.classify("Translate this sentence into French, please.");',
          "await router.close();",
          'const log = DecisionLog.open("consumer.db");',
          "log.close();",
          "console.log(JSON.stringify({ label: decision.label, labels: manifest.labels }));",
          "",
        ].join("\n"),
      );
      writeFileSync(
        join(consumer, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: false, outDir: "out" },
          files: ["consumer.ts"],
        }),
      );
      await run("npm", ["install", "--save-dev", "typescript@5.9"], consumer, 5 * MINUTE);
      await run("npx", ["tsc", "-p", "tsconfig.json"], consumer, 2 * MINUTE);
      const { stdout } = await run(process.execPath, [join("out", "consumer.js")], consumer, 2 * MINUTE);
      const out = JSON.parse(stdout) as { label: string; labels: string[] };
      expect(out.labels).toEqual(["SIMPLE", "MEDIUM", "COMPLEX", "FRONTIER"]);
      expect(out.labels).toContain(out.label);
    },
    10 * MINUTE,
  );
});
