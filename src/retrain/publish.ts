import { train, type TrainOptions, type TrainResult } from "../train/train.js";
import { openRegistry } from "../model/adopt.js";
import { DEFAULT_KEEP_VERSIONS } from "../model/registry.js";

/** Trains a new version into a registry and points `current` at it (`triage train --registry`); a plain artifact there becomes v0001 first. */
export async function trainIntoRegistry(
  root: string,
  options: Omit<TrainOptions, "out">,
  keepVersions = DEFAULT_KEEP_VERSIONS,
): Promise<TrainResult & { version: string; pruned: string[] }> {
  const registry = await openRegistry(root);
  const version = registry.nextVersion();
  const result = await train({ ...options, out: registry.versionDir(version) });
  await registry.promote(version);
  return { ...result, version, pruned: registry.prune(keepVersions) };
}
