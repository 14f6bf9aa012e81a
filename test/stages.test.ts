/**
 * @module
 * The stage order of src/ (issue 13): each folder is one stage, and a file may import only from its own
 * stage or lower ones, so the data's way reads top to bottom. Stages are named by folder only, so moving
 * files never breaks these rules. Active once the layout change has moved the files (src/model/ exists).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/** Lowest first. Router owns the ports (DecisionSink, FallbackClassifier, Decision); fallback and store implement them. */
const STAGES = ["common", "config", "encoders", "model", "train", "router", "fallback", "store", "eval", "retrain", "outcomes", "server", "cli"];

/** [importer, imported] folders that stay apart although the order would allow it. */
const APART: [string, string][] = [
  ["router", "train"], // run time never loads training code
  ["server", "train"],
  ["server/proxy", "server/http"], // the proxy works without HTTP
];

/**
 * Back-imports the file moves leave until their code is split (PLAN.md, phase B). Each one whose importer
 * exists must still occur: fixing one means deleting its line here, so the list only shrinks.
 */
const PENDING: string[] = [];

const SRC = join(import.meta.dirname, "..", "src");
const active = existsSync(join(SRC, "model"));
if (!active) console.log("stages: skipped until the layout change (no src/model/ yet)");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Every relative import in src/ (static, dynamic, type-only and re-exports), as "from -> to" paths relative to src/. */
function importGraph(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = resolve(dirname(file), fileName).replace(/\.js$/, ".ts");
      edges.push([relative(SRC, file), relative(SRC, target)]);
    }
  }
  return edges;
}

/** A file's stage index; src/index.ts (the public API) sits above every stage. */
function stageOf(file: string): number {
  if (!file.includes("/")) return file === "index.ts" ? STAGES.length : -1;
  return STAGES.indexOf(file.split("/")[0]);
}

describe.skipIf(!active)("stage order of src/", () => {
  const edges = active ? importGraph() : [];

  it("every folder of src/ is a stage, and only index.ts sits at its root", () => {
    const strays = sourceFiles(SRC)
      .map((f) => relative(SRC, f))
      .filter((f) => stageOf(f) < 0);
    expect(strays, `add each folder to STAGES, in order: ${strays.join(", ")}`).toEqual([]);
  });

  it("no file imports from a higher stage, across APART, or into the CLI (apart from the pending splits)", () => {
    const under = (file: string, folder: string) => file.startsWith(`${folder}/`);
    const wrong = edges
      .filter(([from, to]) => stageOf(to) > stageOf(from) || APART.some(([a, b]) => under(from, a) && under(to, b)) || (under(to, "cli") && !under(from, "cli")))
      .map(([from, to]) => `${from} -> ${to}`);
    expect(wrong.filter((e) => !PENDING.includes(e))).toEqual([]);
    const stale = PENDING.filter((e) => existsSync(join(SRC, e.split(" -> ")[0])) && !wrong.includes(e));
    expect(stale, "fixed: delete these lines from PENDING").toEqual([]);
  });
});
