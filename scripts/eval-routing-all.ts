/**
 * Runs `eval-routing` on the five third-party outcome datasets in ../shared/datasets ($TRIAGE_SHARED_DIR/datasets)
 * and prints one table. Reports go to reports/routing/<name>.{json,md,svg}; embeddings are cached in
 * $TRIAGE_CACHE (default .cache/embeddings.sqlite).
 * Usage: npx tsx scripts/eval-routing-all.ts [name ...]   (names: gsm8k mmlu arc mbpp winogrande)
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { withCosts } from "../src/cli/commands/eval-routing.js";
import { sharedDir } from "../src/common/shared.js";
import { CachedEncoder } from "../src/encoders/cache.js";
import { DEFAULT_CACHE_PATH } from "../src/encoders/resolve.js";
import { UseEncoder } from "../src/encoders/use/encoder.js";
import { evaluateRouting, type RoutingReport } from "../src/outcomes/evaluate.js";
import { writeRoutingReport } from "../src/outcomes/report.js";
import { samplePrompts, splitByPrompt } from "../src/outcomes/split.js";
import { loadOutcomes } from "../src/outcomes/load.js";
import type { OutcomeSet } from "../src/outcomes/set.js";

const SEED = 1;
const shared = join(sharedDir(), "datasets");

interface Dataset {
  name: string;
  title: string;
  load: () => { train: OutcomeSet; test: OutcomeSet };
}

/**
 * MMLU has 14k prompts; USE embeds a few per second on a busy 2-core machine, so MMLU_SAMPLE=N evaluates
 * a seeded random N of them (seed 99, the order scratch warm-ups embed in). Unset or 0: all.
 */
const MMLU_SAMPLE = Number(process.env.MMLU_SAMPLE ?? 0);
const routellm = (name: string, title: string, path: string, sample = 0): Dataset => ({
  name,
  title: sample > 0 ? `${title}, seeded random ${sample} prompts` : title,
  load: () => {
    const all = withCosts(loadOutcomes(join(shared, path)), undefined);
    return splitByPrompt(sample > 0 ? samplePrompts(all, sample, 99) : all, 0.5, SEED);
  },
});
const routerbench = (name: string, title: string, stem: string): Dataset => ({
  name,
  title,
  load: () => ({
    train: loadOutcomes(join(shared, "routerbench", `${stem}_train.csv`)),
    test: loadOutcomes(join(shared, "routerbench", `${stem}_test.csv`)),
  }),
});

const DATASETS: Dataset[] = [
  routellm("gsm8k", "RouteLLM GSM8K (Mixtral-8x7B vs GPT-4, seeded 50/50 split)", "routellm/gsm8k/gsm8k_responses.csv"),
  routellm("mmlu", "RouteLLM MMLU (Mixtral-8x7B vs GPT-4, seeded 50/50 split)", "routellm/mmlu", MMLU_SAMPLE),
  routerbench("arc", "RouterBench ARC-challenge (11 models)", "arc_challenge"),
  routerbench("mbpp", "RouterBench MBPP (11 models)", "mbpp"),
  routerbench("winogrande", "RouterBench Winogrande (11 models)", "winograde"),
];

async function main(): Promise<void> {
  if (!existsSync(join(shared, "routellm")) || !existsSync(join(shared, "routerbench"))) {
    console.log(`skipped: no outcome datasets at ${shared} (set TRIAGE_SHARED_DIR to the shared folder)`);
    return;
  }
  const wanted = process.argv.slice(2);
  const chosen = DATASETS.filter((d) => wanted.length === 0 || wanted.includes(d.name));
  const encoder = new CachedEncoder(await UseEncoder.load(), DEFAULT_CACHE_PATH);
  const results: [Dataset, RoutingReport][] = [];
  try {
    for (const d of chosen) {
      const { train, test } = d.load();
      const log = (m: string) => process.stderr.write(`${d.name}: ${m}\n`);
      const report = await evaluateRouting(train, test, (t) => encoder.embed(t), { seed: SEED, log });
      writeRoutingReport("reports/routing", d.name, d.title, report);
      results.push([d, report]);
    }
  } finally {
    await encoder.close();
  }
  const p = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
  const rows: string[][] = [["dataset", "router", "APGR", "CPT(50%)", "CPT(80%)", "AIQ", "saving@95%", "net of random", "saving@98%", "hull: APGR", "CPT(50%)", "saving@95%"]];
  for (const [d, r] of results)
    for (const [label, c] of [
      ["outcome router", r.router],
      ["random", r.baselines.random],
      ["rules", r.baselines.rules],
      ["zero router", r.baselines.zero],
    ] as const)
      rows.push([d.name, label, p(c.apgr), p(c.cpt50), p(c.cpt80), p(c.aiq), p(c.saving95), p(c.saving95Net), p(c.saving98), p(c.hull.apgr), p(c.hull.cpt50), p(c.hull.saving95)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join("  "));
  console.log("");
  for (const [d, r] of results) {
    const b = r.baselines;
    console.log(
      `${d.name}: test ${r.testPrompts} prompts; strongest ${r.strong} ${p(b.strongest.quality)} for $${b.strongest.cost.toFixed(2)}; ` +
        `cheapest ${r.weak} ${p(b.cheapest.quality)} for $${b.cheapest.cost.toFixed(3)}; oracle ${p(b.oracle.quality)} for $${b.oracle.cost.toFixed(3)}; ` +
        `router at 95%: ${p(r.router.atTarget.quality)} for $${r.router.atTarget.cost.toFixed(3)} (cost inflation ${r.router.atTarget.costInflation}, quality loss ${r.router.atTarget.qualityLoss})`,
    );
  }
}

await main();
