import type { Command } from "commander";
import { readManifest } from "../../model/artifact.js";
import { info, pct, table } from "../output.js";

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("print a model artifact's manifest")
    .argument("<dir>", "model artifact directory")
    .option("--json", "print the whole manifest as JSON")
    .action((dir: string, opts: { json?: boolean }) => {
      const m = readManifest(dir);
      if (opts.json) {
        process.stdout.write(JSON.stringify(m, null, 2) + "\n");
        return;
      }
      process.stdout.write(
        table([
          ["version", m.version],
          ["created", m.createdAt],
          ["encoder", `${m.encoder.id} (${m.encoder.dimensions}-d, ${m.encoder.fingerprint.slice(0, 12)})`],
          ["labels", `${m.labels.join(", ")}${m.ordered ? " (ordered tiers)" : ""}`],
          ["examples", `${m.data.examples} (data sha256 ${m.data.sha256.slice(0, 12)})`],
          ["cv accuracy / macro-F1", `${pct(m.metrics.cv.accuracy)} / ${pct(m.metrics.cv.macroF1)}`],
          ["combination", `knn ${m.combination.knn} (k=${m.combination.k}), centroid ${m.combination.centroid}, head ${m.combination.head}`],
          ["margin threshold", `${m.calibration.threshold.toFixed(3)}: ${pct(m.calibration.coverage)} confident at ${pct(m.calibration.acceptedAccuracy)}`],
          ["low-confidence policy", m.config.policy.lowConfidence],
          ["hnsw", `M=${m.params.hnsw.M} efConstruction=${m.params.hnsw.efConstruction} efSearch=${m.params.hnsw.efSearch}`],
        ]) + "\n",
      );
      info("");
    });
}
