/**
 * @module The CLI as tests run it: the current TypeScript source (`src/cli/main.ts`) through tsx,
 * never `bin/triage.js`, which runs the compiled `dist/` and so could test a stale build.
 * Use as `spawn(process.execPath, [...CLI, ...args])`. tsx is named by its absolute URL so that a test
 * may run the CLI with any working directory.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const CLI_MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
export const CLI: readonly string[] = ["--import", TSX, CLI_MAIN];
