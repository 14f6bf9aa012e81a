/** Byte-for-byte snapshots of a folder, to show that a refused write changed nothing. */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `dir` (relative path) with its bytes in base64; directories as "<dir>". */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    out[relative(dir, path)] = e.isDirectory() ? "<dir>" : readFileSync(path).toString("base64");
  }
  return out;
}
