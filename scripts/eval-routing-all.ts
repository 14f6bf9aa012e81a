/**
 * Runs `eval-routing` on the five third-party outcome datasets in ../shared/datasets ($TRIAGE_SHARED_DIR/datasets)
 * and prints one table. Reports go to reports/routing/<name>.{json,md,svg}; embeddings are cached in
 * $TRIAGE_CACHE (default .cache/embeddings.sqlite).
 * Usage: npx tsx scripts/eval-routing-all.ts [--cv-repeats N] [name ...]   (names: gsm8k mmlu arc mbpp winogrande)
 * The table also goes to reports/routing/summary.{json,md}, with each saving's 95% bootstrap interval.
 */
import { existsSync, mkdirSync } from "node:fs";
import { writeFileAtomic } from "../src/common/atomic.js";
import { join } from "node:path";
import { withCosts } from "../src/cli/commands/eval-routing.js";
import { sharedDir } from "../src/common/shared.js";
import { CachedEncoder } from "../src/encoders/cache.js";
import { DEFAULT_CACHE_PATH } from "../src/encoders/resolve.js";
import { UseEncoder } from "../src/encoders/use/encoder.js";
import { evaluateRouting, type RoutingReport } from "../src/outcomes/evaluate.js";
import { pct, span, writeRoutingReport } from "../src/outcomes/report.js";
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
  const args = process.argv.slice(2);
  const at = args.indexOf("--cv-repeats");
  const repeats = at >= 0 ? Number(args.splice(at, 2)[1]) : 1;
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error("--cv-repeats: expected a whole number >= 1");
  const wanted = args;
  const chosen = DATASETS.filter((d) => wanted.length === 0 || wanted.includes(d.name));
  const encoder = new CachedEncoder(await UseEncoder.load(), DEFAULT_CACHE_PATH);
  const results: [Dataset, RoutingReport][] = [];
  try {
    for (const d of chosen) {
      const { train, test } = d.load();
      const log = (m: string) => process.stderr.write(`${d.name}: ${m}\n`);
      const report = await evaluateRouting(train, test, (t) => encoder.embed(t), { seed: SEED, log, repeats });
      writeRoutingReport("reports/routing", d.name, d.title, report);
      results.push([d, report]);
    }
  } finally {
    await encoder.close();
  }
  const rows: string[][] = [
    ["dataset", "router", "APGR", "CPT(50%)", "CPT(80%)", "AIQ", "saving@95%", "95% interval", "net of random", "saving@98%", "hull: APGR", "CPT(50%)", "saving@95%"],
  ];
  for (const [d, r] of results)
    for (const [label, c, interval] of [
      ["outcome router", r.router, r.uncertainty?.router],
      ["random", r.baselines.random, r.uncertainty?.random],
      ["rules", r.baselines.rules, r.uncertainty?.rules],
      ["zero router", r.baselines.zero, r.uncertainty?.zero],
    ] as const)
      rows.push([
        d.name,
        label,
        pct(c.apgr),
        pct(c.cpt50),
        pct(c.cpt80),
        pct(c.aiq),
        pct(c.saving95),
        interval ? span(interval) : "n/a",
        pct(c.saving95Net),
        pct(c.saving98),
        pct(c.hull.apgr),
        pct(c.hull.cpt50),
        pct(c.hull.saving95),
      ]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join("  "));
  mkdirSync("reports/routing", { recursive: true });
  const md = [`| ${rows[0].join(" | ")} |`, `|${rows[0].map(() => "---").join("|")}|`, ...rows.slice(1).map((r) => `| ${r.join(" | ")} |`)];
  writeFileAtomic("reports/routing/summary.md", `# Outcome routing on five datasets (cross-validation over ${repeats} partition(s))\n\n${md.join("\n")}\n`);
  writeFileAtomic(
    "reports/routing/summary.json",
    JSON.stringify(
      {
        cvRepeats: repeats,
        datasets: results.map(([d, r]) => ({ name: d.name, title: d.title, router: r.router.method, saving95: r.saving95, uncertainty: r.uncertainty ?? null })),
      },
      null,
      2,
    ) + "\n",
  );
  console.log("");
  for (const [d, r] of results) {
    const b = r.baselines;
    console.log(
      `${d.name}: test ${r.testPrompts} prompts; strongest ${r.strong} ${pct(b.strongest.quality)} for $${b.strongest.cost.toFixed(2)}; ` +
        `cheapest ${r.weak} ${pct(b.cheapest.quality)} for $${b.cheapest.cost.toFixed(3)}; oracle ${pct(b.oracle.quality)} for $${b.oracle.cost.toFixed(3)}; ` +
        `router at 95%: ${pct(r.router.atTarget.quality)} for $${r.router.atTarget.cost.toFixed(3)} (cost inflation ${r.router.atTarget.costInflation}, quality loss ${r.router.atTarget.qualityLoss})`,
    );
  }
}

await main();
