import type { Command } from "commander";
import { isRegistry, ModelRegistry, resolveModelDir } from "../../model/registry.js";
import { readManifest } from "../../model/artifact.js";
import { isOutcomeManifest, outcomeSummary } from "../../outcomes/summary.js";
import { accuracyInWords, blendInWords, combinationInWords, confidenceInWords, fastPathInWords } from "../describe.js";
import { keyValues } from "../output.js";

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("describe a model: a plain artifact, or a registry's current version")
    .argument("<dir>", "model artifact directory, or a model registry (models/<name>)")
    .option("--json", "print the whole manifest (of the registry's current version) as JSON")
    .action((dir: string, opts: { json?: boolean }) => {
      const artifact = resolveModelDir(dir);
      const m = readManifest(artifact);
      if (opts.json) {
        process.stdout.write(JSON.stringify(m, null, 2) + "\n");
        return;
      }
      if (isOutcomeManifest(m)) {
        process.stdout.write(keyValues(outcomeSummary(m)) + "\n");
        return;
      }
      const registryRows: string[][] = [];
      if (isRegistry(dir)) {
        const registry = new ModelRegistry(dir);
        const pointer = registry.pointer();
        const versions = registry.versionNames();
        registryRows.push(
          ["registry", `${dir}: ${versions.length} version(s) (${versions.join(", ")})`],
          ["current version", `${pointer?.version ?? "-"}${pointer?.previous ? ` (previous: ${pointer.previous}; \`triage rollback --registry ${dir}\` switches back)` : ""}`],
        );
      }
      process.stdout.write(
        keyValues([
          ...registryRows,
          ["model", m.version],
          ["created", m.createdAt],
          ["encoder", `${m.encoder.id} (${m.encoder.dimensions} dimensions, weights ${m.encoder.fingerprint.slice(0, 12)})`],
          ["labels", `${m.labels.join(", ")}${m.ordered ? " (tiers, cheapest first)" : " (named routes)"}`],
          ["examples", `${m.data.examples} (data sha256 ${m.data.sha256.slice(0, 12)})`],
          ["accuracy", accuracyInWords(m)],
          ["how it decides", combinationInWords(m.combination)],
          ["confident decisions", confidenceInWords(m)],
          ...(m.stages?.static ? [["fast path", fastPathInWords(m.stages.static)]] : []),
          ...(m.stages?.static?.blend ? [["blend", blendInWords(m.stages.static.blend, m.stages.static.calibratedOn)]] : []),
          ["nearest-neighbour index", `HNSW, M=${m.params.hnsw.M} efConstruction=${m.params.hnsw.efConstruction} efSearch=${m.params.hnsw.efSearch}`],
        ]) + "\n",
      );
    });
}
