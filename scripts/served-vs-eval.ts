/**
 * Does the served outcome router do on a test split what `eval-routing` says it does at the same dial?
 * Trains with `triage train --outcomes` on the train split, asks `eval-routing --json --quality Q` for the
 * router's figures at the dial, then serves the artifact (`triage serve`'s createServer) in front of a fake
 * provider on 127.0.0.1, sends every test prompt through /v1/chat/completions with `x-triage-quality: Q`,
 * and scores the models that answered against the test split's outcomes.
 * Usage: npx tsx scripts/served-vs-eval.ts [arc|mbpp|winogrande|gsm8k] [Q ...]   (default: arc 0.95)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withCosts } from "../src/cli/commands/eval-routing.js";
import { sharedPath } from "../src/common/shared.js";
import { loadOutcomes } from "../src/outcomes/load.js";
import { completeRows, type OutcomeSet } from "../src/outcomes/set.js";
import { splitByPrompt } from "../src/outcomes/split.js";
import { createServer } from "../src/server/index.js";
import { CLI } from "../test/helpers/cli.js";
import { startFakeOpenAI } from "../test/helpers/fake-openai.js";

const datasets = sharedPath("datasets");
if (datasets.path === null) {
  console.log(`served-vs-eval: skipped: ${datasets.missing}`);
  process.exit(0);
}
const shared = datasets.path;
const [name = "arc", ...qs] = process.argv.slice(2);
const qualities = qs.length > 0 ? qs : ["0.95"];
const work = mkdtempSync(join(tmpdir(), "triage-served-"));

function files(): { train: string; test: string } {
  const stems: Record<string, string> = { arc: "arc_challenge", mbpp: "mbpp", winogrande: "winograde" };
  if (stems[name]) return { train: join(shared, "routerbench", `${stems[name]}_train.csv`), test: join(shared, "routerbench", `${stems[name]}_test.csv`) };
  if (name !== "gsm8k") throw new Error(`unknown dataset ${name}`);
  // RouteLLM's GSM8K as eval-routing-all splits it, written out as JSONL (prompts already cut, costs from list prices).
  const { train, test } = splitByPrompt(withCosts(loadOutcomes(join(shared, "routellm/gsm8k/gsm8k_responses.csv")), undefined), 0.5, 1);
  const write = (path: string, set: OutcomeSet) =>
    writeFileSync(
      path,
      set.prompts
        .map((p) =>
          JSON.stringify({
            id: p.id,
            prompt: p.text,
            scores: Object.fromEntries(set.models.map((m, i) => [m, p.scores[i]])),
            costs: Object.fromEntries(set.models.map((m, i) => [m, p.costs[i]])),
          }),
        )
        .join("\n") + "\n",
    );
  write(join(work, "train.jsonl"), train);
  write(join(work, "test.jsonl"), test);
  return { train: join(work, "train.jsonl"), test: join(work, "test.jsonl") };
}

const triage = (args: string[]) => execFileSync(process.execPath, [...CLI, ...args], { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "inherit"] });

const { train, test: testPath } = files();
const model = join(work, "model");
triage(["train", "--outcomes", train, "--out", model]);
const test = completeRows(loadOutcomes(testPath));
const fake = await startFakeOpenAI();
const server = await createServer({
  model,
  config: { providers: [{ name: "fake", baseURL: fake.baseURL, apiKey: "k", timeoutMs: 10_000 }], reload: { watch: false, intervalMs: 1000 } },
});
const { url } = await server.start(0, "127.0.0.1");
try {
  for (const q of qualities) {
    const report = JSON.parse(triage(["eval-routing", "--train", train, "--test", testPath, "--json", "--quality", q]));
    const at = report.router.atDial;
    let quality = 0;
    let cost = 0;
    const calls: Record<string, number> = Object.fromEntries(test.models.map((m) => [m, 0]));
    for (const p of test.prompts) {
      const send = () =>
        fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-triage-quality": q },
          body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: p.text }] }),
        });
      // A keep-alive socket the server closed while eval-routing ran (minutes) can reset on reuse: once more on a fresh one.
      const res = await send().catch(send);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      const m = test.models.indexOf(res.headers.get("x-triage-model")!);
      quality += p.scores[m];
      cost += p.costs[m];
      calls[test.models[m]]++;
    }
    quality /= test.prompts.length;
    const same = Object.keys(calls).filter((m) => calls[m] !== at.calls[m]);
    console.log(
      `${name} quality ${q}: served ${(quality * 100).toFixed(2)}% for $${cost.toFixed(4)}; eval-routing ${(at.quality * 100).toFixed(2)}% for $${at.cost.toFixed(4)} ` +
        `(saving ${(at.saving * 100).toFixed(1)}%); per-model calls ${same.length === 0 ? "identical" : `differ for ${same.join(", ")}`}: ${JSON.stringify(calls)}`,
    );
  }
} finally {
  await server.close();
  await fake.close();
  rmSync(work, { recursive: true, force: true });
}
