import type { Command } from "commander";
import { ModelRegistry } from "../../model/registry.js";

export function registerRollback(program: Command): void {
  program
    .command("rollback")
    .description("point a model registry back at its previous version (atomic; running routers that watch it follow)")
    .requiredOption("--registry <dir>", "model registry, e.g. models/tiers")
    .option("--to <version>", "switch to this version instead of the previous one")
    .action((opts: { registry: string; to?: string }) => {
      const result = new ModelRegistry(opts.registry).rollback(opts.to);
      process.stdout.write(JSON.stringify(result) + "\n");
    });
}
