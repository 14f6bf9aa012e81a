import type { Command } from "commander";
import { openVersionRegistry } from "../../model/registry-open.js";

export function registerRollback(program: Command): void {
  program
    .command("rollback")
    .description(
      "point a model registry back at its previous version, after checking its files against their checksums (atomic; running routers that watch it, or replicas of a shared one, follow; a damaged version is refused and current stays)",
    )
    .requiredOption("--registry <dir|url>", "model registry: a folder, e.g. models/tiers, or a shared one, postgres://…")
    .option("--to <version>", "switch to this version instead of the previous one")
    .action(async (opts: { registry: string; to?: string }) => {
      const registry = await openVersionRegistry(opts.registry);
      try {
        process.stdout.write(JSON.stringify(await registry.rollback(opts.to)) + "\n");
      } finally {
        await registry.close();
      }
    });
}
