/**
 * `triage retrain` on an outcome model: the candidate learns the per-model outcomes in a real SQLite
 * decision log on top of the base outcome data, and replaces the current version only when it is not
 * worse on held-out outcomes. Real CLI processes, the real encoder.
 *
 * The data: short trivia questions the cheap model answers, hard proofs and programs only the strong one
 * does. Chemistry questions look like trivia but the cheap model gets them wrong; the base data has none.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ModelRegistry } from "../../src/model/registry.js";
import { PgModelRegistry } from "../../src/model/registry-pg.js";
import { OutcomeRouter } from "../../src/outcomes/served.js";
import { DecisionLog } from "../../src/store/index.js";
import { makeDecision } from "../store/make-decision.js";
import { CLI } from "../helpers/cli.js";
import { startListening } from "../helpers/listening.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { tempDir } from "../helpers/tiers.js";
import { cachedUse } from "../retrain/helpers.js";

const run = promisify(execFile);
let work: string;
let cache: string;

async function triage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20, env: { ...process.env, TRIAGE_CACHE: cache } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const COUNTRIES = [
  "France",
  "Spain",
  "Italy",
  "Germany",
  "Japan",
  "Brazil",
  "Canada",
  "Egypt",
  "Kenya",
  "Peru",
  "Norway",
  "Chile",
  "India",
  "Mexico",
  "Greece",
  "Poland",
  "Turkey",
  "Cuba",
];
const HARD = [
  "Prove that there are infinitely many prime numbers.",
  "Prove that the square root of 3 is irrational.",
  "Write a Python function that returns the longest palindromic substring in O(n^2) time.",
  "Implement a thread-safe LRU cache in Java with O(1) get and put.",
  "Derive the closed form of the sum of the first n cubes and prove it by induction.",
  "Solve the recurrence T(n) = 3T(n/2) + n^2 and justify each step.",
  "Design an algorithm to find strongly connected components of a directed graph and give its complexity.",
  "Write a SQL query that returns the second highest salary per department using window functions.",
  "Prove that every bounded monotone sequence of real numbers converges.",
  "Implement Dijkstra's shortest path algorithm in C++ with a binary heap.",
  "Find all real solutions of x^4 - 10x^2 + 9 = 0 and explain each step.",
  "Write a Rust function that parses an arithmetic expression with operator precedence.",
  "Prove that a graph is bipartite if and only if it has no odd cycle.",
  "Compute the eigenvalues of the matrix [[2, 1], [1, 2]] and show the work.",
  "Write a Go program that merges k sorted linked lists efficiently.",
  "Show that the harmonic series diverges, with a rigorous argument.",
];
const ELEMENTS = ["gold", "silver", "iron", "sodium", "potassium", "copper", "lead", "tin", "mercury", "tungsten", "helium", "neon", "zinc", "calcium", "argon", "cobalt"];

const cheapCost = 0.0001;
const strongCost = 0.001;
type Row = { id: string; prompt: string; cheap: number; strong: number };
const trivia = (c: string) => `What is the capital city of ${c}?`;
const chemistry = (e: string) => `What is the chemical symbol of ${e}?`;

function writeRows(path: string, rows: Row[]): void {
  const lines = rows.map((r) => JSON.stringify({ id: r.id, prompt: r.prompt, scores: { cheap: r.cheap, strong: r.strong }, costs: { cheap: cheapCost, strong: strongCost } }));
  writeFileSync(path, lines.join("\n") + "\n");
}

/** A log whose decisions carry per-model outcomes: `cheap` / `strong` say how each did (undefined: not tried). */
function writeLog(path: string, rows: { text: string; cheap?: number; strong?: number }[]): void {
  const log = DecisionLog.open(path);
  rows.forEach((r, i) => {
    const requestId = `log-${i}`;
    log.log(makeDecision({ requestId, label: "cheap", scores: { cheap: 0.9, strong: 0.1 }, modelLabel: "cheap" }), r.text);
    log.flush();
    // A gate verdict on the cheap model, then thumbs on the strong model that answered after the escalation.
    if (r.cheap !== undefined) log.feedback(requestId, { kind: "score", score: r.cheap, finalModel: "cheap", note: "gate" });
    if (r.strong !== undefined) log.feedback(requestId, { kind: "thumbs", thumbs: r.strong >= 0.5 ? 1 : -1, finalModel: "strong" });
  });
  log.close();
}

/** Logs `rows` under `logName` and retrains `registry` from base.jsonl plus them, judged on held-out.jsonl: its JSON report. */
async function retrainFromLog(registry: string, logName: string, rows: Parameters<typeof writeLog>[1], flags: string[] = []) {
  const logPath = join(work, logName);
  writeLog(logPath, rows);
  const r = await triage(["retrain", "--registry", registry, "--data", join(work, "base.jsonl"), "--log-db", logPath, "--eval", join(work, "held-out.jsonl"), "--json", ...flags]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function trainRegistry(name: string, flags: string[] = []): Promise<string> {
  const registry = join(work, name);
  const r = await triage(["train", "--outcomes", join(work, "base.jsonl"), "--registry", registry, "--encoder", "use", ...flags]);
  expect(r.code, r.stderr).toBe(0);
  return registry;
}

const current = (registry: string) => new ModelRegistry(registry).current();
/** The model version (the manifest's) a registry entry holds: what a loaded router reports. */
const manifestVersion = (registry: string, entry: string | null) => JSON.parse(readFileSync(join(registry, "versions", String(entry), "manifest.json"), "utf8")).version as string;

beforeAll(() => {
  work = tempDir();
  cache = join(work, "cache.sqlite");
  const base: Row[] = [
    ...COUNTRIES.slice(0, 12).map((c, i) => ({ id: `t${i}`, prompt: trivia(c), cheap: 1, strong: 1 })),
    ...HARD.slice(0, 10).map((p, i) => ({ id: `h${i}`, prompt: p, cheap: 0, strong: 1 })),
  ];
  writeRows(join(work, "base.jsonl"), base);
  const held: Row[] = [
    ...COUNTRIES.slice(12).map((c, i) => ({ id: `et${i}`, prompt: trivia(c), cheap: 1, strong: 1 })),
    ...HARD.slice(10).map((p, i) => ({ id: `eh${i}`, prompt: p, cheap: 0, strong: 1 })),
    ...ELEMENTS.slice(8).map((e, i) => ({ id: `ec${i}`, prompt: chemistry(e), cheap: 0, strong: 1 })),
  ];
  writeRows(join(work, "held-out.jsonl"), held);
});

describe("retrain an outcome model from logged outcomes", () => {
  it("promotes a candidate that learned a logged outcome (the cheap model fails chemistry)", async () => {
    const registry = await trainRegistry("good");
    const before = current(registry);
    // A router in this process follows the registry as `serve` does.
    const reloads: string[] = [];
    const errors: Error[] = [];
    const watching = await OutcomeRouter.load(registry, {
      encoder: await cachedUse(),
      watch: { intervalMs: 20 },
      onReload: (v) => reloads.push(v),
      onError: (e) => errors.push(e),
    });
    expect(watching.version).toBe(manifestVersion(registry, before));
    const report = await retrainFromLog(
      registry,
      "good.sqlite",
      ELEMENTS.slice(0, 8).map((e) => ({ text: chemistry(e), cheap: 0, strong: 1 })),
    );
    expect(report).toMatchObject({ kind: "outcomes", promoted: true, trained: true, training: { base: 22, fromLog: 8, outcomes: 16 } });
    expect(report.candidate.aiq).toBeGreaterThanOrEqual(report.current.aiq);
    expect(current(registry)).toBe(report.candidateVersion);
    expect(current(registry)).not.toBe(before);
    // What it learned: an unseen chemistry question goes to the strong model at the default dial.
    const routed = await triage(["route", "--model", registry, chemistry("platinum")]);
    expect(JSON.parse(routed.stdout).model).toBe("strong");
    await vi.waitFor(() => expect(watching.version).toBe(manifestVersion(registry, report.candidateVersion)), { timeout: 10_000 });
    expect((await watching.classify(chemistry("platinum"))).model).toBe("strong");
    // The same rollback as tier models; the watching router follows it back.
    expect((await triage(["rollback", "--registry", registry])).code).toBe(0);
    expect(current(registry)).toBe(before);
    await vi.waitFor(() => expect(watching.version).toBe(manifestVersion(registry, before)), { timeout: 10_000 });
    expect(reloads).toEqual([manifestVersion(registry, report.candidateVersion), manifestVersion(registry, before)]);
    expect(errors).toEqual([]);
    await watching.close();
  });

  it("refuses a candidate that learned wrong outcomes, and keeps it on disk", async () => {
    const registry = await trainRegistry("bad");
    const before = current(registry);
    // Outcomes that contradict the held-out data: the cheap model "solved" hard problems the strong one "failed".
    const report = await retrainFromLog(
      registry,
      "bad.sqlite",
      HARD.map((p) => ({ text: p.replace(/\.$/, " quickly."), cheap: 1, strong: 0 })),
    );
    expect(report).toMatchObject({ kind: "outcomes", promoted: false, trained: true });
    expect(report.reason).toMatch(/candidate is worse/);
    expect(report.candidate.aiq).toBeLessThan(report.current.aiq);
    expect(current(registry)).toBe(before);
    expect(readFileSync(join(registry, "versions", report.candidateVersion, "manifest.json"), "utf8")).toMatch(/"kind": ?"outcomes"/);
  });

  it("fits the candidate as the current version was told to (--folds, --cv-repeats, --head-dims), unless the command says otherwise", async () => {
    const manifestOf = (registry: string, entry: string | null) => JSON.parse(readFileSync(join(registry, "versions", String(entry), "manifest.json"), "utf8")).outcomes;
    const chemistryRows = ELEMENTS.slice(0, 8).map((e) => ({ text: chemistry(e), cheap: 0, strong: 1 }));
    const told = await trainRegistry("settings", ["--folds", "3", "--cv-repeats", "1", "--head-dims", "16"]);
    expect(manifestOf(told, current(told)).cv).toMatchObject({ folds: 3, repeats: 1, asked: { folds: 3, repeats: 1, headDimensions: 16 } });
    const kept = await retrainFromLog(told, "settings.sqlite", chemistryRows);
    expect(kept.trained).toBe(true);
    const candidate = manifestOf(told, kept.candidateVersion);
    expect(candidate.cv).toMatchObject({ folds: 3, repeats: 1, asked: { folds: 3, repeats: 1, headDimensions: 16 } });
    if (candidate.projection) expect(candidate.projection.outputDims).toBe(16);
    const changed = await retrainFromLog(told, "settings-2.sqlite", chemistryRows, ["--cv-repeats", "2", "--head-dims", "0"]);
    expect(manifestOf(told, changed.candidateVersion).cv).toMatchObject({ folds: 3, repeats: 2, asked: { folds: 3, repeats: 2, headDimensions: 0 } });
    // Told nothing: the defaults, recorded as such, and a retrain takes the defaults again.
    const untold = await trainRegistry("untold");
    expect(manifestOf(untold, current(untold)).cv).toMatchObject({ folds: 5, repeats: 5 });
    expect(manifestOf(untold, current(untold)).cv.asked).toBeUndefined();
    const again = await retrainFromLog(untold, "untold.sqlite", chemistryRows);
    expect(manifestOf(untold, again.candidateVersion).cv).toMatchObject({ folds: 5, repeats: 5 });
    expect(manifestOf(untold, again.candidateVersion).cv.asked).toBeUndefined();
  });

  it("without logged outcomes or held-out data, trains nothing and says why", async () => {
    const registry = await trainRegistry("idle");
    const empty = join(work, "empty.sqlite");
    writeLog(empty, []);
    const none = await triage(["retrain", "--registry", registry, "--data", join(work, "base.jsonl"), "--log-db", empty, "--eval", join(work, "held-out.jsonl"), "--json"]);
    expect(JSON.parse(none.stdout)).toMatchObject({ promoted: false, trained: false });
    expect(JSON.parse(none.stdout).reason).toMatch(/no per-model outcome/);
    const logPath = join(work, "some.sqlite");
    writeLog(logPath, [{ text: chemistry("gold"), cheap: 0 }]);
    const noEval = await triage(["retrain", "--registry", registry, "--data", join(work, "base.jsonl"), "--log-db", logPath, "--json"]);
    expect(JSON.parse(noEval.stdout).reason).toMatch(/too few to compare on.*--eval/);
    const badMetric = await triage(["retrain", "--registry", registry, "--data", join(work, "base.jsonl"), "--log-db", logPath, "--metric", "accuracy"]);
    expect(badMetric.stderr).toMatch(/--metric: .* is an outcome model; expected aiq or saving/);
  });
});

const pgAvailable = !!findPostgres() || !!process.env.CI;
if (!pgAvailable) console.log(PG_SKIP_REASON);

/** `serve --registry URL` as a real process, once it listens. */
async function serveShared(registryUrl: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = ["serve", "--registry", registryUrl, "--registry-cache", join(tempDir(), "cache"), "--workers", "1", "--port", "0", "--host", "127.0.0.1"];
  const served = await startListening([...args, "--log-db", join(tempDir(), "serve.sqlite")], { TRIAGE_API_KEYS: "", TRIAGE_CACHE: cache });
  return {
    url: served.url,
    stop: async () => {
      served.child.kill("SIGTERM");
      await served.exited;
    },
  };
}

describe.skipIf(!pgAvailable)("an outcome model in a shared PostgreSQL registry", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(() => pg?.stop());

  it("train --outcomes --registry URL publishes it, serve --registry URL routes with it, retrain learns logged outcomes and publishes the candidate", async () => {
    const url = pg.createDatabase("outcomes");
    const trained = await triage(["train", "--outcomes", join(work, "base.jsonl"), "--registry", url, "--encoder", "use"]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/current -> v0001/);
    const registry = await PgModelRegistry.open(url);
    try {
      expect(await registry.pointer()).toMatchObject({ version: "v0001" });
      expect((await registry.list())[0].manifest).toMatchObject({ kind: "outcomes" });
    } finally {
      await registry.close();
    }

    const server = await serveShared(url);
    try {
      const routed = await fetch(`${server.url}/v1/route`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: HARD[0] }) });
      expect(routed.status).toBe(200);
      expect(((await routed.json()) as { model: string }).model).toBe("strong");
    } finally {
      await server.stop();
    }

    const report = await retrainFromLog(
      url,
      "shared.sqlite",
      ELEMENTS.slice(0, 8).map((e) => ({ text: chemistry(e), cheap: 0, strong: 1 })),
    );
    expect(report).toMatchObject({ kind: "outcomes", promoted: true, trained: true, candidateVersion: "v0002", served: "v0002", registry: url, training: { fromLog: 8 } });
    const after = await PgModelRegistry.open(url);
    try {
      expect(await after.pointer()).toMatchObject({ version: "v0002", previous: "v0001" });
      expect(await after.readReport("v0002")).toEqual(report);
    } finally {
      await after.close();
    }
    const rolledBack = await triage(["rollback", "--registry", url]);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
  }, 300_000);
});
