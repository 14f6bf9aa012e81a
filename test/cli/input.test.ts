// Careless input and closed pipes through the real CLI (the current source, test/helpers/cli.ts): one clear line, or a quiet exit 0.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/router/types.js";
import { DecisionLog, type LoggedDecision } from "../../src/store/index.js";
import { makeDecision } from "../store/make-decision.js";
import { tempDir, tierExamples, TIERS_CONFIG } from "../helpers/tiers.js";
import { CLI } from "../helpers/cli.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let work: string;
let cache: string;

/**
 * Runs the CLI with `input` on stdin. With `closeStdoutAfterFirstChunk`, the test closes its end of the
 * stdout pipe as soon as the first output arrives, as `| head -1` does, while the command has far more to write.
 */
function triage(args: string[], input: string | Buffer = "", closeStdoutAfterFirstChunk = false): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, TRIAGE_CACHE: cache }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (closeStdoutAfterFirstChunk) child.stdout.destroy();
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => {}); // the command may end before reading all of its input
    child.stdin.end(input);
  });
}

const jsonl = (rows: readonly object[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const lines = (s: string) => s.split("\n").filter(Boolean);

let model: string;
beforeAll(async () => {
  work = tempDir("triage-cli-input-");
  cache = join(work, "embeddings.sqlite");
  const data = join(work, "train.jsonl");
  writeFileSync(data, jsonl(tierExamples("train", 10)));
  model = join(work, "model");
  const r = await triage(["train", "--data", data, "--config", TIERS_CONFIG, "--out", model, "--encoder", "use", "--folds", "2", "--fast-path", "off"]);
  expect(r.code, r.stderr).toBe(0);
});

describe("training input mistakes end in one line naming the file", () => {
  it("one label and no config (or a config the data uses one label of)", async () => {
    const data = join(work, "one-label.jsonl");
    writeFileSync(
      data,
      jsonl([
        { text: "hi", label: "SIMPLE" },
        { text: "hello", label: "SIMPLE" },
        { text: "hey", label: "SIMPLE" },
      ]),
    );
    const expected = `triage: ${data}: training needs examples of at least two labels; all 3 are labelled "SIMPLE"\n`;
    const out = join(work, "one-label-model");
    const bare = await triage(["train", "--data", data, "--out", out, "--encoder", "use"]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toBe(`encoder: use-lite-512 (requested)\n${expected}`);
    const withConfig = await triage(["train", "--data", data, "--config", TIERS_CONFIG, "--out", out, "--encoder", "use"]);
    expect(withConfig.code).toBe(1);
    expect(withConfig.stderr).toBe(`encoder: use-lite-512 (requested)\n${expected}`);
    expect(existsSync(out)).toBe(false);
  });

  it("bytes that are not UTF-8 in the data: file:line, and no model is written", async () => {
    const data = join(work, "latin1.jsonl");
    const rows = tierExamples("train", 4);
    writeFileSync(
      data,
      Buffer.concat([
        Buffer.from(jsonl(rows.slice(0, 5))),
        Buffer.from('{"text":"caf'),
        Buffer.from([0xe9]),
        Buffer.from('","label":"SIMPLE"}\n'),
        Buffer.from(jsonl(rows.slice(5))),
      ]),
    );
    const out = join(work, "latin1-model");
    const r = await triage(["train", "--data", data, "--config", TIERS_CONFIG, "--out", out, "--encoder", "use"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`encoder: use-lite-512 (requested)\ntriage: ${data}:6: not valid UTF-8 (save the file as UTF-8)\n`);
    expect(existsSync(out)).toBe(false);
  });
});

describe("a UTF-8 BOM at the start of an input file is read past", () => {
  it("train reads BOM-prefixed JSONL data and a BOM-prefixed JSON config", async () => {
    const data = join(work, "bom.jsonl");
    const rows = tierExamples("train", 4).filter((e) => e.label === "SIMPLE" || e.label === "FRONTIER");
    writeFileSync(data, Buffer.concat([BOM, Buffer.from(jsonl(rows))]));
    const config = join(work, "bom.json");
    writeFileSync(config, Buffer.concat([BOM, Buffer.from(JSON.stringify({ ordered: true, labels: [{ name: "SIMPLE" }, { name: "FRONTIER" }] }))]));
    const out = join(work, "bom-model");
    const r = await triage(["train", "--data", data, "--config", config, "--out", out, "--encoder", "use", "--folds", "2", "--fast-path", "off", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout) as { labels: string[]; data: { examples: number } };
    expect(manifest.labels).toEqual(["SIMPLE", "FRONTIER"]);
    expect(manifest.data.examples).toBe(8);
  });

  it("route reads a BOM-prefixed queries stream: the first query is logged without it", async () => {
    const db = join(work, "bom-route.db");
    const r = await triage(["route", "--model", model, "--log-db", db], Buffer.concat([BOM, Buffer.from("what time is it\nsay hi\n")]));
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(2);
    const log = DecisionLog.open(db, { readonly: true });
    expect(log.query().map((d) => d.text)).toEqual(["what time is it", "say hi"]);
    log.close();
  });
});

describe("a closed stdout (`| head -1`) ends the command quietly with exit 0", () => {
  it("logs --json", async () => {
    const db = join(work, "many.db");
    const log = DecisionLog.open(db);
    for (let i = 0; i < 3000; i++) log.log(makeDecision(), `query number ${i} `.repeat(8)); // ~1.5 MB of JSON lines, far over a pipe's buffer
    log.close();
    const r = await triage(["logs", "--log-db", db, "--json"], "", true);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(lines(r.stdout)[0]) as LoggedDecision).toMatchObject({ id: 1 });
  });

  it("route reading many queries from stdin, and the decisions it printed are in its log", async () => {
    const db = join(work, "route-epipe.db");
    const queries = Array.from({ length: 3000 }, (_, i) => `what is ${i} plus ${i}`).join("\n") + "\n";
    const r = await triage(["route", "--model", model, "--log-db", db], queries, true);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const first = JSON.parse(lines(r.stdout)[0]) as Decision;
    const log = DecisionLog.open(db, { readonly: true });
    const logged = log.query();
    log.close();
    expect(logged[0]).toMatchObject({ requestId: first.requestId, text: "what is 0 plus 0" });
    expect(logged.length).toBeLessThan(3000);
  });
});
