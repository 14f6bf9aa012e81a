/**
 * The README's Quick start and learning loop, run as written, so the docs cannot rot.
 *
 * Blocks marked `<!-- docs-test: NAME[; review keys: KEYS] -->` just above a ```bash fence run in
 * README order, in one bash session (`set -eo pipefail`), in a temporary copy of the repository.
 * What differs from a newcomer's machine, and only that:
 * - `npx triage` (and `triage`) run the current source (src/cli/main.ts through tsx);
 * - `npm install` / `npm ci` do nothing (the copy links this checkout's node_modules) and `npm test`
 *   does nothing (it is the suite running this test); `npm run ...` is the real npm;
 * - the README's port 8787 becomes a free port, and TRIAGE_PROVIDER_BASE_URL points at a fake
 *   OpenAI-compatible provider on 127.0.0.1, so nothing leaves the machine;
 * - `npx triage review` without --list gets a terminal (util-linux `script`) and the marker's keys.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ModelRegistry } from "../../src/model/registry.js";
import { DecisionLog } from "../../src/store/index.js";
import { readManifest } from "../../src/model/artifact.js";
import { CLI_MAIN } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tempDir, TEST_EMBEDDING_CACHE } from "../helpers/tiers.js";

const ROOT = join(import.meta.dirname, "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const RUN_LIMIT_MS = 12 * 60_000;

interface Block {
  name: string;
  keys?: string;
  code: string;
}

/** The marked bash blocks, in README order. */
function testedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const m of markdown.matchAll(/<!-- docs-test: ([^;>]+?)(?:; review keys: (\S+))? -->\n```bash\n([\s\S]*?)```/g))
    blocks.push({ name: m[1].trim(), ...(m[2] ? { keys: m[2] } : {}), code: m[3] });
  return blocks;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const which = (cmd: string) => spawnSync("bash", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();

/** PATH shims: npx triage / triage = the current source; npm install and npm test do nothing. */
function writeShims(bin: string): void {
  mkdirSync(bin);
  const shims: Record<string, string> = {
    triage: `#!/usr/bin/env bash
MAIN=${JSON.stringify(CLI_MAIN)}
if [ "$1" = review ] && [[ " $* " != *" --list "* ]]; then
  # Interactive: a terminal for it, and the keys the README's marker names.
  printf '%s' "$DOCS_REVIEW_KEYS" | script -qec "$(printf '%q ' node --import tsx "$MAIN" "$@")" /dev/null
  exit $?
fi
exec node --import tsx "$MAIN" "$@"
`,
    npx: `#!/usr/bin/env bash
if [ "$1" = triage ]; then shift; exec "$(dirname "$0")/triage" "$@"; fi
exec ${JSON.stringify(which("npx"))} "$@"
`,
    npm: `#!/usr/bin/env bash
case "$1" in
  install|i|ci) echo "(docs test: dependencies are linked from the checkout)"; exit 0 ;;
  test|t) echo "(docs test: npm test is the suite running this test)"; exit 0 ;;
esac
exec ${JSON.stringify(which("npm"))} "$@"
`,
  };
  for (const [name, body] of Object.entries(shims)) {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  }
}

/** A copy of what the README's commands touch; src and node_modules are links to this checkout. */
function copyRepo(to: string): void {
  mkdirSync(join(to, "models"), { recursive: true });
  for (const entry of ["package.json", "README.md", "data", "models/README.md"]) cpSync(join(ROOT, entry), join(to, entry), { recursive: true });
  symlinkSync(join(ROOT, "src"), join(to, "src"));
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"));
}

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake?.close());

it("the README's blocks are marked for this test: the Quick start, then the learning loop with its review keys", () => {
  const blocks = testedBlocks(README);
  expect(blocks[0].name).toBe("quick-start");
  expect(blocks[0].code).toContain("npm install && npm run demo");
  expect(blocks.slice(1).every((b) => b.name === "learning-loop")).toBe(true);
  const loop = blocks.map((b) => b.code).join("\n");
  for (const step of ["triage serve", "/v1/chat/completions", "triage review", "/v1/feedback", "triage feedback", "triage retrain", "triage train --registry", "triage rollback"])
    expect(loop, step).toContain(step);
  expect(blocks.filter((b) => b.keys)).toHaveLength(1);
  expect(existsSync(which("script")), "util-linux `script` gives review its terminal").toBe(true);
});

it(
  "runs the Quick start and the learning loop as written: served, logged, reviewed, retrained, hot-reloaded",
  async () => {
    const work = tempDir("triage-docs-");
    const repo = join(work, "repo");
    copyRepo(repo);
    writeShims(join(work, "bin"));
    const port = await freePort();
    const blocks = testedBlocks(README);
    const script = [
      "set -eo pipefail",
      ...blocks.flatMap((b, i) => [
        `echo "::block ${i} ${b.name}::"`,
        ...(b.keys ? [`export DOCS_REVIEW_KEYS=${JSON.stringify(b.keys)}`] : []),
        b.code.replaceAll("8787", String(port)),
      ]),
      'echo "::done::"',
    ].join("\n");
    writeFileSync(join(work, "readme.sh"), script);

    // Only what the README's commands read; no real provider or fallback endpoint is reachable from here.
    const env: NodeJS.ProcessEnv = {
      PATH: `${join(work, "bin")}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      TRIAGE_CACHE: TEST_EMBEDDING_CACHE,
      TRIAGE_PROVIDER_BASE_URL: fake.baseURL,
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn("bash", [join(work, "readme.sh")], { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), RUN_LIMIT_MS);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(timer);
    try {
      process.kill(-child.pid!, "SIGTERM"); // a server the script left running
    } catch {
      // the group is gone: the README stopped its server
    }
    expect(code, out.slice(-6000)).toBe(0);
    expect(out).toContain("::done::");

    // Quick start: the demo trained a registry and routed the sample queries as a table.
    const section = (i: number) => out.slice(out.indexOf(`::block ${i} `), i + 1 < blocks.length ? out.indexOf(`::block ${i + 1} `) : undefined);
    expect(section(0)).toMatch(/^text +label +model +confidence {2}reason$/m);
    const registry = new ModelRegistry(join(repo, "models", "example"));

    // Served and logged: the chat request reached the provider, every decision is in the log with the feedback given.
    expect(fake.chatRequests().length).toBeGreaterThanOrEqual(1);
    expect(section(1)).toContain('"object":"chat.completion"');
    const log = DecisionLog.open(join(repo, "triage.db"), { readonly: true });
    const rows = log.query();
    log.close();
    expect(rows.length).toBe(
      1 +
        readFileSync(join(ROOT, "data", "tiers", "queries.txt"), "utf8")
          .split("\n")
          .filter((l) => l.trim()).length,
    );
    const demo = rows.find((r) => r.requestId === "demo-0001")!;
    // The proxy's own rows (a call's cost, a gate's verdict) and a review's label (the queue may hold it) aside, the feedback the loop sent.
    expect(demo.feedback.filter((f) => f.kind !== "outcome" && f.kind !== "score" && f.note !== "triage review").map((f) => [f.kind, f.humanLabel ?? f.thumbs])).toEqual([
      ["label", "COMPLEX"],
      ["thumbs", 1],
    ]);
    // Reviewed: the two keys before q labelled the first two queued queries.
    const reviewed = rows.filter((r) => r.feedback.some((f) => f.kind === "label" && f.note === "triage review"));
    expect(reviewed.flatMap((r) => r.feedback.map((f) => f.humanLabel)).sort()).toEqual(["COMPLEX", "FRONTIER"]);

    // Retrained: a candidate was trained from those labels and judged against the current version.
    const loop = out.slice(out.indexOf("::block 3 "));
    expect(loop).toMatch(/^result +(PROMOTED|kept current)$/m);
    expect(loop).toMatch(/^training set +503 examples: 500 base \+ 3 from the log$/m);

    // Hot-reloaded: after train --registry the server named the new version, after rollback the one before.
    const health = [...section(4).matchAll(/^\{"status":"ok".*$/gm)].map((m) => JSON.parse(m[0]) as { modelVersion: string });
    expect(health).toHaveLength(2);
    const pointer = registry.pointer()!;
    const published = registry.versionNames().at(-1)!;
    expect(health[0].modelVersion).toBe(readManifest(registry.versionDir(published)).version);
    expect(health[1].modelVersion).toBe(readManifest(registry.versionDir(pointer.version)).version);
    expect(pointer).toMatchObject({ previous: published });
  },
  RUN_LIMIT_MS + 60_000,
);
