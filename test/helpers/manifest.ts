/** Tests that edit a manifest on purpose (to force a code path) re-seal it, as a retrain would. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sealManifest, type ArtifactChecksums } from "../../src/model/checksums.js";

/** The manifest JSON text re-sealed after an edit: the files' checksums kept, its own recomputed. */
export function resealed(text: string): string {
  const m = JSON.parse(text) as { checksums?: ArtifactChecksums };
  return JSON.stringify(m.checksums ? sealManifest(m, m.checksums.files) : m, null, 2) + "\n";
}

/** Edits `dir/manifest.json` in place and re-seals it. */
export function editManifest<T>(dir: string, edit: (m: T) => void): void {
  const path = join(dir, "manifest.json");
  const m = JSON.parse(readFileSync(path, "utf8")) as T;
  edit(m);
  writeFileSync(path, resealed(JSON.stringify(m)));
}
