#!/usr/bin/env node
// The installed `triage` command: runs the compiled CLI in dist/ and nothing else. The package ships
// dist/; a clone builds it on `npm install` (prepare). Development runs the current TypeScript
// source instead: `npm run triage -- <command>` (node --import tsx src/cli/main.ts).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const main = join(root, "dist", "cli", "main.js");
if (!existsSync(main)) {
  process.stderr.write(`triage: ${main} not found: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(pathToFileURL(main).href);
