import { existsSync } from "node:fs";
import type { Command } from "commander";
import { TriageError } from "../../common/errors.js";
import { ModelRegistry } from "../../model/registry.js";
import { pct, table } from "../output.js";

interface StoredReport {
  promoted?: boolean;
  metric?: string;
  candidate?: { accuracy?: number; n?: number } | null;
}

export function registerModels(program: Command): void {
  program
    .command("models")
    .description("list the versions in a model registry, marking the current (*) and previous (-) one")
    .requiredOption("--registry <dir>", "model registry, e.g. models/tiers")
    .option("--json", "print the list as JSON")
    .action((opts: { registry: string; json?: boolean }) => {
      const registry = new ModelRegistry(opts.registry);
      if (!existsSync(registry.root)) throw new TriageError(`${opts.registry}: no such registry`);
      const versions = registry.list().map((v) => {
        const report = registry.readReport(v.version) as StoredReport | null;
        return {
          version: v.version,
          current: v.current,
          previous: v.previous,
          modelVersion: v.manifest?.version ?? null,
          createdAt: v.manifest?.createdAt ?? null,
          examples: v.manifest?.data.examples ?? null,
          cvAccuracy: v.manifest?.metrics.cv.accuracy ?? null,
          heldOutAccuracy: report?.candidate?.accuracy ?? null,
          retrain: report ? (report.promoted ? "promoted" : "not promoted") : null,
          ...(v.error ? { error: v.error } : {}),
        };
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(versions) + "\n");
        return;
      }
      if (versions.length === 0) {
        process.stdout.write(`${registry.root}: no versions yet\n`);
        return;
      }
      const rows: string[][] = [["", "version", "created", "examples", "cv acc", "held-out acc", "retrain"]];
      for (const v of versions)
        rows.push([
          v.current ? "*" : v.previous ? "-" : "",
          v.version,
          v.createdAt?.replace("T", " ").slice(0, 19) ?? (v.error ? `unreadable: ${v.error}` : "?"),
          v.examples === null ? "?" : String(v.examples),
          v.cvAccuracy === null ? "?" : pct(v.cvAccuracy),
          v.heldOutAccuracy === null ? "" : pct(v.heldOutAccuracy),
          v.retrain ?? "",
        ]);
      process.stdout.write(table(rows) + "\n");
    });
}
