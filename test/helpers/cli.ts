/**
 * @module The CLI as tests run it: the current TypeScript source (`src/cli/main.ts`) through tsx,
 * never `bin/triage.js`, which runs the compiled `dist/` and so could test a stale build.
 * Use as `spawn(process.execPath, [...CLI, ...args])`.
 */
import { join } from "node:path";

export const CLI_MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
export const CLI: readonly string[] = ["--import", "tsx", CLI_MAIN];
