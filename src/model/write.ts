/**
 * @module Writing a model artifact: the one place its files are written (train and retrain come through
 * here), atomically, with the manifest last so that it can record every other file's checksum.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDirAtomic } from "../common/atomic.js";
import { saveStaticEncoder, type StaticEncoder } from "../encoders/static.js";
import type { Manifest } from "./artifact.js";
import { checksumFiles, sealManifest } from "./checksums.js";
import { ARTIFACT_FILES, artifactOwner, STATIC_ENCODER_DIR, STATIC_STAGE_DIR } from "./files.js";
import type { FittedParts } from "./parts.js";
import { saveParts } from "./parts-io.js";

/** Everything an artifact holds, fitted and in memory. */
export interface ArtifactContents {
  /** Without checksums: writeArtifact records them. */
  manifest: Manifest;
  parts: FittedParts;
  /** The training examples, in index-row order (a neighbour's id is its position here). */
  examples: readonly { text: string; label: string }[];
  /** The fast path's own parts and distilled encoder, when it was trained. */
  staticStage?: { parts: FittedParts; encoder: StaticEncoder };
}

/**
 * Writes the artifact to `out`, replacing only an empty folder or an earlier triage model (see
 * artifactOwner), and returns the manifest as written: sealed with the checksums of every file.
 */
export async function writeArtifact(out: string, contents: ArtifactContents): Promise<Manifest> {
  let sealed = contents.manifest;
  await writeDirAtomic(out, artifactOwner, async (dir) => {
    await saveParts(dir, contents.parts);
    if (contents.staticStage) {
      const stageDir = join(dir, STATIC_STAGE_DIR);
      mkdirSync(stageDir, { recursive: true });
      await saveParts(stageDir, contents.staticStage.parts);
      await saveStaticEncoder(contents.staticStage.encoder, join(stageDir, STATIC_ENCODER_DIR));
    }
    const examples = contents.examples.map((e, id) => JSON.stringify({ id, text: e.text, label: e.label }));
    writeFileSync(join(dir, ARTIFACT_FILES.examples), examples.join("\n") + "\n");
    // Last: the manifest records every other file's checksum, then its own.
    sealed = sealManifest(contents.manifest, await checksumFiles(dir));
    writeFileSync(join(dir, ARTIFACT_FILES.manifest), JSON.stringify(sealed, null, 2) + "\n");
  });
  return sealed;
}
