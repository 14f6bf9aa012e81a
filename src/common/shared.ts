import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (where package.json is), from this file's location in src/ or dist/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The shared material folder (third-party datasets, reference tokenizers) that sits beside the
 * project in this workspace; TRIAGE_SHARED_DIR overrides. Never part of the repository.
 */
export function sharedDir(): string {
  return resolve(process.env.TRIAGE_SHARED_DIR ?? join(PROJECT_ROOT, "..", "shared"));
}

/** A path inside shared/, or null (with the one-line reason) when it is absent, e.g. on a fresh clone. */
export function sharedPath(...parts: string[]): { path: string; missing: null } | { path: null; missing: string } {
  const path = join(sharedDir(), ...parts);
  return existsSync(path) ? { path, missing: null } : { path: null, missing: `${path} not found (set TRIAGE_SHARED_DIR to the shared folder)` };
}
