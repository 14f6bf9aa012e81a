import type { Command } from "commander";
import { evaluate } from "../../eval/evaluate.js";
import { Router } from "../../router/router.js";
import { loadExamples } from "../../train/data.js";
import { info, pct, table } from "../output.js";

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("score a model on labelled data: accuracy, macro-F1, per-label P/R, confusions, coverage at the calibrated margin")
    .requiredOption("--model <dir>", "model artifact directory")
    .requiredOption("--data <file>", "labelled examples (JSONL or CSV); labels the model does not know count as out-of-scope")
    .option("--text-field <name>", "field holding the query text", "text")
    .option("--label-field <name>", "field holding the label", "label")
    .option("--json", "print one JSON object")
    .action(async (opts: { model: string; data: string; textField: string; labelField: string; json?: boolean }) => {
      const router = await Router.load(opts.model, { onWarning: (m) => info(`warning: ${m}`) });
      const { examples } = loadExamples(opts.data, { textField: opts.textField, labelField: opts.labelField });
      const r = await evaluate(router, examples);
      await router.close();
      if (opts.json) {
        process.stdout.write(JSON.stringify(r) + "\n");
        return;
      }
      const rows: (string | number)[][] = [
        ["queries", r.n + (r.outOfScope?.n ?? 0)],
        ["accuracy", pct(r.accuracy)],
        ["macro-F1", pct(r.macroF1)],
        ["confident (coverage)", pct(r.coverage)],
        ["accuracy when confident", pct(r.acceptedAccuracy)],
      ];
      if (r.underRouting !== undefined) rows.push(["under-routing (quality loss)", pct(r.underRouting)], ["over-routing (cost inflation)", pct(r.overRouting!)]);
      if (r.routed) rows.push(["after policy: accuracy / under / over", `${pct(r.routed.accuracy)} / ${pct(r.routed.underRouting)} / ${pct(r.routed.overRouting)}`]);
      if (r.outOfScope) rows.push(["out-of-scope caught", `${pct(r.outOfScope.recall)} of ${r.outOfScope.n}`]);
      info(table(rows));
      info("\nper label:\n" + table([["label", "precision", "recall", "F1", "n"], ...r.perLabel.map((m) => [m.label, pct(m.precision), pct(m.recall), pct(m.f1), m.support])]));
      if (r.confusions.length) info("\nmost confused (actual -> predicted):\n" + r.confusions.map((c) => `  ${c.actual} -> ${c.predicted}: ${c.count}`).join("\n"));
    });
}
