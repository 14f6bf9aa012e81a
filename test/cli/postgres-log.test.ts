import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/router/types.js";
import type { LoggedDecision } from "../../src/store/index.js";
import { jsonLines, runCli } from "../helpers/cli.js";
import { PG_SKIP_REASON, findPostgres, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { tempDir, tierExamples } from "../helpers/tiers.js";
import { TEST_CACHE, registryWith } from "../retrain/helpers.js";

const bin = findPostgres();
if (!bin && !process.env.CI) console.log(PG_SKIP_REASON);

const triage = (args: string[], env: Record<string, string>, input = "") => runCli(args, { input, env: { TRIAGE_CACHE: TEST_CACHE, ...env } });

describe.skipIf(!bin && !process.env.CI)("the CLI on a PostgreSQL decision log", () => {
  let server: TestPostgres;
  let root: string;
  let work: string;
  const base = tierExamples("train", 10);
  const queries = tierExamples("train", 16).filter((e) => !base.some((b) => b.text === e.text));
  beforeAll(async () => {
    server = await startPostgres();
    root = await registryWith(base);
    work = tempDir();
  }, 180_000);
  afterAll(() => server?.stop());

  it("route -> logs -> feedback -> stats -> retrain -> review --list -> prune, all through TRIAGE_LOG_DB", async () => {
    const env = { TRIAGE_LOG_DB: server.createDatabase("loop") };
    const route = await triage(["route", "--model", root], env, queries.map((q) => q.text).join("\n") + "\n");
    expect(route.code, route.stderr).toBe(0);
    const decisions = jsonLines<Decision>(route.stdout);
    expect(decisions).toHaveLength(queries.length);

    const logs = await triage(["logs", "--json"], env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(jsonLines<LoggedDecision>(logs.stdout).map((r) => [r.requestId, r.text])).toEqual(decisions.map((d, i) => [d.requestId, queries[i].text]));

    // Three get their true label: retraining learns from them, review leaves them out.
    const labelled = decisions.slice(0, 3);
    for (const [i, d] of labelled.entries()) {
      const fb = await triage(["feedback", "--request-id", i === 0 ? d.requestId.slice(0, 8) : d.requestId, "--label", queries[i].label], env);
      expect(fb.code, fb.stderr).toBe(0);
      expect(JSON.parse(fb.stdout)).toMatchObject({ kind: "label", requestId: d.requestId });
    }
    const unknown = await triage(["feedback", "--request-id", "nope", "--thumbs", "down"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown request id "nope"/);

    const stats = JSON.parse((await triage(["stats", "--json"], env)).stdout) as { count: number; feedback: Record<string, number> };
    expect(stats).toMatchObject({ count: queries.length, feedback: { label: 3 } });

    const basePath = join(work, "base.jsonl");
    const evalPath = join(work, "eval.jsonl");
    writeFileSync(basePath, base.map((e) => JSON.stringify(e)).join("\n"));
    writeFileSync(
      evalPath,
      tierExamples("test", 10)
        .map((e) => JSON.stringify(e))
        .join("\n"),
    );
    const rt = await triage(
      ["retrain", "--registry", root, "--data", basePath, "--eval", evalPath, "--held-out-share", "0", "--min-held-out", "40", "--folds", "3", "--min-delta=-1", "--json"],
      env,
    );
    expect(rt.code, rt.stderr).toBe(0);
    const report = jsonLines<{ training: { fromLog: number } }>(rt.stdout)[0];
    expect(report.training.fromLog).toBe(3);

    const review = await triage(["review", "--model", root, "--list", "--json"], env);
    expect(review.code, review.stderr).toBe(0);
    const items = jsonLines<{ requestId: string }>(review.stdout).map((i) => i.requestId);
    expect(items.length).toBeGreaterThan(0);
    for (const d of labelled) expect(items).not.toContain(d.requestId);

    const prune = await triage(["prune", "--max-rows", "5"], env);
    expect(prune.code, prune.stderr).toBe(0);
    expect(JSON.parse(prune.stdout)).toEqual({ deleted: queries.length - 5, remaining: 5 });
  }, 300_000);

  it("a URL it cannot reach is one line naming it without its password; --log-db wins over TRIAGE_LOG_DB", async () => {
    const url = `postgres://triage:hunter22@127.0.0.1:${server.port + 1}/triage`;
    const r = await triage(["stats", "--log-db", url], { TRIAGE_LOG_DB: server.url });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^triage: decision log postgres:\/\/triage:\*\*\*@127\.0\.0\.1:\d+\/triage: cannot connect: /);
    expect(r.stderr).not.toContain("hunter22");
    const missing = await triage(["feedback", "--request-id", "x", "--thumbs", "up"], { TRIAGE_LOG_DB: server.createDatabase("empty") });
    expect(missing.stderr).toMatch(/\/empty: no decision log there/);
  }, 120_000);
});
