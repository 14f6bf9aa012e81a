import type { Command } from "commander";
import { openVersionRegistry } from "../../model/registry-open.js";
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
    .requiredOption("--registry <dir|url>", "model registry: a folder, e.g. models/tiers, or a shared one, postgres://…")
    .option("--json", "print the list as JSON")
    .action(async (opts: { registry: string; json?: boolean }) => {
      const registry = await openVersionRegistry(opts.registry, { mustExist: true });
      const listed = await registry.list().catch(async (err: unknown) => {
        await registry.close();
        throw err;
      });
      const reports = await Promise.all(listed.map((v) => registry.readReport(v.version) as Promise<StoredReport | null>)).finally(() => registry.close());
      const versions = listed.map((v, i) => {
        const report = reports[i];
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
        process.stdout.write(`${registry.location}: no versions yet\n`);
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
