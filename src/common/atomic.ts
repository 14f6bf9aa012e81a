import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/** Writes a file so that readers see either the old or the new content, never a partial one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Builds a directory under a temporary name, then renames it into place.
 * An existing directory at `dir` is replaced only after the new one is complete.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void> | void): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${randomBytes(6).toString("hex")}.building`);
  mkdirSync(tmp);
  try {
    await fill(tmp);
    const old = join(parent, `.${randomBytes(6).toString("hex")}.old`);
    let moved = false;
    try {
      renameSync(dir, old);
      moved = true;
    } catch {
      // no previous directory
    }
    renameSync(tmp, dir);
    if (moved) rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
