// The machine-readable CLI of the learning loop, as real processes running the current source (test/helpers/cli.ts).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Decision } from "../../src/router/types.js";
import type { LoggedDecision } from "../../src/store/index.js";
import type { FakeOpenAI } from "../helpers/fake-openai.js";
import { TIERS_CONFIG, tempDir, tierExamples } from "../helpers/tiers.js";
import { registryWith, startLabeller, TEST_CACHE } from "../retrain/helpers.js";
import { CLI, jsonLines, runCli } from "../helpers/cli.js";

const base = tierExamples("train", 10);
const queries = tierExamples("train", 18).filter((e) => !base.some((b) => b.text === e.text));
const truth = new Map(tierExamples("train", 1000).map((e) => [e.text, e.label]));

const triage = (args: string[], input = "") => runCli(args, { input, env: { TRIAGE_CACHE: TEST_CACHE } });

let fake: FakeOpenAI;
let root: string;
let work: string;
beforeAll(async () => {
  fake = await startLabeller(truth);
  root = await registryWith(base, { policy: "fallback" });
  work = tempDir();
});
afterAll(() => fake.close());

it("route --log-db -> logs --json -> feedback -> stats -> retrain --json -> models -> rollback -> review --list -> prune", async () => {
  const db = join(work, "decisions.db");
  const route = await triage(
    ["route", "--model", root, "--log-db", db, "--policy", "fallback", "--fallback-base-url", fake.baseURL, "--fallback-model", "labeller", "--fallback-api-key", "k"],
    queries.map((q) => q.text).join("\n") + "\n",
  );
  expect(route.stderr).not.toMatch(/warning/);
  expect(route.code).toBe(0);
  const decisions = jsonLines<Decision>(route.stdout);
  expect(decisions).toHaveLength(queries.length);
  const asked = decisions.filter((d) => d.decidedBy === "fallback");
  expect(asked.length).toBeGreaterThan(0);
  expect(fake.chatRequests()).toHaveLength(asked.length);
  for (const d of asked as (Decision & { reason: string })[])
    expect(d.reason).toMatch(
      d.label === d.modelLabel ? /; the LLM fallback agreed: \w+$/ : new RegExp(`; the LLM fallback chose ${d.label} \\(the model's top label was ${d.modelLabel}\\)$`),
    );

  const logs = await triage(["logs", "--log-db", db, "--json"]);
  expect(logs.code).toBe(0);
  const rows = jsonLines<LoggedDecision>(logs.stdout);
  expect(rows.map((r) => [r.requestId, r.text, r.label])).toEqual(decisions.map((d, i) => [d.requestId, queries[i].text, d.label]));
  expect(rows.filter((r) => r.fallbackUsed).map((r) => r.fallbackLabel)).toEqual(asked.map((d) => d.label));
  const csv = await triage(["logs", "--log-db", db, "--format", "csv", "--fallback"]);
  expect(csv.stdout.trim().split("\n")).toHaveLength(asked.length + 1);

  const labelled = decisions.find((d) => d.decidedBy !== "fallback")!;
  const fb = await triage(["feedback", "--log-db", db, "--request-id", labelled.requestId, "--label", truth.get(queries[decisions.indexOf(labelled)].text)!]);
  expect(fb.code).toBe(0);
  expect(JSON.parse(fb.stdout)).toMatchObject({ kind: "label", requestId: labelled.requestId });
  expect(
    (
      await triage([
        "feedback",
        "--log-db",
        db,
        "--request-id",
        decisions.filter((d) => d.decidedBy !== "fallback")[1].requestId,
        "--escalated",
        "--final-model",
        "gpt-4o",
        "--tokens-in",
        "100",
        "--tokens-out",
        "50",
      ])
    ).code,
  ).toBe(0);
  const unknown = await triage(["feedback", "--log-db", db, "--request-id", "nope", "--thumbs", "down"]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/unknown request id "nope"/);
  // A unique prefix is enough; a label the model does not have is refused.
  const third = decisions.filter((d) => d.decidedBy !== "fallback")[2];
  const prefix = third.requestId.slice(0, 8);
  expect(decisions.filter((d) => d.requestId.startsWith(prefix))).toHaveLength(1);
  const badLabel = await triage(["feedback", "--log-db", db, "--request-id", prefix, "--label", "URGENT"]);
  expect(badLabel.code).toBe(1);
  expect(badLabel.stderr).toMatch(/^triage: feedback: label "URGENT" is not one of the model's labels \(SIMPLE, MEDIUM, COMPLEX, FRONTIER\)/);
  const byPrefix = await triage(["feedback", "--log-db", db, "--request-id", prefix, "--label", truth.get(queries[decisions.indexOf(third)].text)!]);
  expect(byPrefix.code, byPrefix.stderr).toBe(0);
  expect(JSON.parse(byPrefix.stdout)).toMatchObject({ requestId: third.requestId, kind: "label" });
  const missing = await triage(["feedback", "--log-db", join(work, "no-such.db"), "--request-id", prefix, "--thumbs", "up"]);
  expect(missing.stderr).toMatch(/no-such\.db: no decision log there/);

  const stats = JSON.parse((await triage(["stats", "--log-db", db, "--json", "--config", TIERS_CONFIG])).stdout) as {
    count: number;
    feedback: Record<string, number>;
    cost: { requests: number };
  };
  expect(stats.count).toBe(queries.length);
  expect(stats.feedback).toMatchObject({ label: 2, escalated: 1 });
  expect(stats.cost.requests).toBe(1); // priced from the config by model name

  const basePath = join(work, "base.jsonl");
  const evalPath = join(work, "eval.jsonl");
  writeFileSync(basePath, base.map((e) => JSON.stringify(e)).join("\n"));
  writeFileSync(
    evalPath,
    tierExamples("test", 10)
      .map((e) => JSON.stringify(e))
      .join("\n"),
  );
  // --min-delta=-1 accepts any candidate (accuracy differences lie in [-1, 1]), so the outcome does not hang on two close accuracies.
  const rt = await triage([
    "retrain",
    "--registry",
    root,
    "--data",
    basePath,
    "--log-db",
    db,
    "--eval",
    evalPath,
    "--held-out-share",
    "0",
    "--min-held-out",
    "40",
    "--folds",
    "3",
    "--min-delta=-1",
    "--json",
  ]);
  expect(rt.code, rt.stderr).toBe(0);
  const lines = jsonLines<{
    promoted: boolean;
    reason: string;
    candidate: { accuracy: number };
    current: { accuracy: number };
    provenance: { sources: { fallback: { used: number } } };
  }>(rt.stdout);
  expect(lines).toHaveLength(1);
  const report = lines[0];
  expect(report.promoted).toBe(true);
  expect(report.reason).toMatch(/^promoted v0002: accuracy \S+ \(candidate v0002\) vs \S+ \(current v0001\) on 40 held-out examples: delta /);
  expect(report.candidate.accuracy).toBeGreaterThan(0);
  expect(report.current.accuracy).toBeGreaterThan(0);
  expect(report.provenance.sources.fallback.used).toBe(asked.length);

  const models = jsonLines<{ version: string; current: boolean }[]>((await triage(["models", "--registry", root, "--json"])).stdout)[0];
  expect(models.map((m) => m.version)).toEqual(["v0001", "v0002"]);
  expect(models.find((m) => m.current)!.version).toBe("v0002");
  expect(JSON.parse((await triage(["rollback", "--registry", root])).stdout)).toEqual({ from: "v0002", to: "v0001" });

  const review = await triage(["review", "--log-db", db, "--model", root, "--list", "--json", "--limit", "5"]);
  expect(review.code).toBe(0);
  const items = jsonLines<{ requestId: string; score: number }>(review.stdout);
  expect(items.length).toBeGreaterThan(0);
  expect(items.length).toBeLessThanOrEqual(5);
  expect(items.map((i) => i.requestId)).not.toContain(labelled.requestId); // already labelled by a person
  expect(items.map((i) => i.requestId)).not.toContain(third.requestId);
  expect(items.map((i) => i.score)).toEqual([...items.map((i) => i.score)].sort((a, b) => b - a));

  const prune = await triage(["prune", "--log-db", db, "--max-rows", "5"]);
  expect(JSON.parse(prune.stdout)).toEqual({ deleted: queries.length - 5, remaining: 5 });
});

it("train --registry writes a new version and points current at it; route --text-mode hash keeps no text; retrain --help documents cron", async () => {
  const reg = join(work, "models", "cli");
  const data = join(work, "small.jsonl");
  writeFileSync(
    data,
    tierExamples("train", 8)
      .map((e) => JSON.stringify(e))
      .join("\n"),
  );
  for (const version of ["v0001", "v0002"]) {
    const trained = await triage(["train", "--registry", reg, "--data", data, "--config", TIERS_CONFIG, "--encoder", "use", "--folds", "2", "--json"]);
    expect(trained.code).toBe(0);
    expect(trained.stderr).toContain(`current -> ${version}`);
  }
  const listed = jsonLines<{ version: string; current: boolean; previous: boolean }[]>((await triage(["models", "--registry", reg, "--json"])).stdout)[0];
  expect(listed.map((v) => [v.version, v.current, v.previous])).toEqual([
    ["v0001", false, true],
    ["v0002", true, false],
  ]);
  expect((await triage(["train", "--data", data])).stderr).toMatch(/give either --out DIR or --registry DIR/);

  const db = join(work, "hashed.db");
  expect((await triage(["route", "--model", root, "--log-db", db, "--text-mode", "hash", "--policy", "escalate", "Translate hello into French"])).code).toBe(0);
  const [row] = jsonLines<LoggedDecision>((await triage(["logs", "--log-db", db, "--json"])).stdout);
  expect(row.text).toBeNull();
  expect(row.textHash).toMatch(/^[0-9a-f]{64}$/);
  const oos = await triage(["feedback", "--log-db", db, "--request-id", row.requestId.slice(0, 6), "--label", "out-of-scope"]);
  expect(oos.code, oos.stderr).toBe(0);
  expect(JSON.parse(oos.stdout)).toMatchObject({ requestId: row.requestId, kind: "label", humanLabel: "out-of-scope" });
  const help = await triage(["retrain", "--help"]);
  expect(help.stdout).toMatch(/0 3 \* \* \*/);
  expect(help.stdout).toMatch(/--every <duration>/);
});

it("route --log-db writes every printed decision when it is stopped by a signal mid-stream", async () => {
  const db = join(work, "signal.db");
  const child = spawn(process.execPath, [...CLI, "route", "--model", root, "--log-db", db, "--policy", "escalate"], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  const printed = new Promise<void>((resolve) =>
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.split("\n").filter(Boolean).length === 3) resolve();
    }),
  );
  child.stdin.write(
    queries
      .slice(0, 3)
      .map((q) => q.text)
      .join("\n") + "\n",
  ); // stdin stays open: route waits for more
  await printed;
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  child.kill("SIGTERM");
  expect(await exited).toBe(143);
  const { DecisionLog } = await import("../../src/store/index.js");
  const log = DecisionLog.open(db, { readonly: true });
  expect(log.query().map((r) => r.requestId)).toEqual(jsonLines<Decision>(out).map((d) => d.requestId));
  log.close();
});

it("retrain --every keeps running: a failed run is reported as a JSON line and the next one runs on schedule", async () => {
  const reg = await registryWith(base);
  const data = join(work, "every.jsonl");
  writeFileSync(data, base.map((e) => JSON.stringify(e)).join("\n"));
  const db = join(work, "every.db");
  const { DecisionLog } = await import("../../src/store/index.js");
  DecisionLog.open(db).close(); // an empty log: the base data alone
  const child = spawn(process.execPath, [...CLI, "retrain", "--registry", reg, "--data", data, "--log-db", db, "--folds", "2", "--every", "1s", "--json"], {
    env: { ...process.env, TRIAGE_CACHE: TEST_CACHE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const lines: { promoted: boolean; error?: boolean; reason: string }[] = [];
  let pending = "";
  const three = new Promise<void>((resolve) =>
    child.stdout.on("data", (c: Buffer) => {
      pending += c.toString();
      const parts = pending.split("\n");
      pending = parts.pop()!;
      for (const line of parts.filter(Boolean)) {
        lines.push(JSON.parse(line));
        // After the first run, break the data file; after the failure, mend it.
        if (lines.length === 1) writeFileSync(data, '{"text": "no label here"}\n');
        if (lines.length === 2) writeFileSync(data, base.map((e) => JSON.stringify(e)).join("\n"));
        if (lines.length === 3) resolve();
      }
    }),
  );
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  await three;
  child.kill("SIGTERM");
  await exited;
  // An empty log and the base data v0001 was trained on: nothing new, so no run trains or promotes.
  const kept = { promoted: false, trained: false };
  expect(lines[0], stderr).not.toHaveProperty("error");
  expect(lines[0]).toMatchObject(kept);
  expect(lines[0].reason).toMatch(/^kept v0001: the training data is unchanged/);
  expect(lines[1]).toMatchObject({ promoted: false, error: true });
  expect(lines[1].reason).toMatch(/every\.jsonl:1/);
  expect(lines[2], stderr).not.toHaveProperty("error");
  expect(lines[2]).toMatchObject(kept);
  expect(stderr.match(/next retrain in 1s/g)?.length).toBeGreaterThanOrEqual(2);
});
