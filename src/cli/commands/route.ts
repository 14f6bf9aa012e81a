import type { Command } from "commander";
import { createInterface } from "node:readline";
import { Router } from "../../router/router.js";
import type { Decision } from "../../router/types.js";
import { positiveInt } from "../parse.js";

export function registerRoute(program: Command): void {
  program
    .command("route")
    .description("classify queries: the TEXT argument, or one query per stdin line; prints one JSON object per query")
    .argument("[text...]", "query text (omit to read stdin)")
    .requiredOption("--model <dir>", "model artifact directory")
    .option("--top-k <n>", "neighbours to include", positiveInt, 3)
    .action(async (words: string[], opts: { model: string; topK: number }) => {
      const router = await Router.load(opts.model);
      const print = (d: Decision) => process.stdout.write(JSON.stringify(d) + "\n");
      try {
        if (words.length > 0) print(await router.classify(words.join(" "), { topK: opts.topK }));
        else {
          for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
            if (line.trim() === "") continue;
            print(await router.classify(line, { topK: opts.topK }));
          }
        }
      } finally {
        await router.close();
      }
    });
}
