/**
 * @module Training and retraining into a shared PostgreSQL registry (`--registry postgres://…`). The work
 * runs in a temporary folder registry exactly as for a folder, under the shared registry's retrain lock,
 * and only the result crosses to the database:
 * - `train --registry URL` (publishTrained): the new version is published and made current;
 * - `retrain --registry URL` (retrainShared, inSharedRegistry for other kinds of model): the current
 *   version is copied (verified) into the folder, the candidate is trained there under a version name
 *   reserved in the shared registry, published, and switched to only if the shared registry's current
 *   version is still the one it was compared with. Replicas then follow the NOTIFY.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TriageError } from "../common/errors.js";
import { DEFAULT_KEEP_VERSIONS, ModelRegistry } from "../model/registry.js";
import { PgModelRegistry } from "../model/registry-pg.js";
import { materialiseVersion } from "../model/registry-replica.js";
import { retrain, type RetrainOptions, type RetrainReport } from "./retrain.js";

/** What a retrain of any kind of model reports that publishing needs. */
export interface PublishableReport {
  promoted: boolean;
  reason: string;
  candidateVersion: string | null;
  registry: string;
  served: string;
  pruned: string[];
}

async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), "triage-shared-"));
  try {
    return await fn(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs `run` on a folder copy of the shared registry's current version with a reserved candidate name,
 * then publishes the candidate and switches to it when `run` promoted it (and nobody switched meanwhile).
 */
export async function inSharedRegistry<R extends PublishableReport>(
  url: string,
  options: { keepVersions?: number; onProgress?: (message: string) => void },
  run: (localRoot: string, candidate: string) => Promise<R>,
): Promise<R> {
  const registry = await PgModelRegistry.open(url);
  try {
    return await registry.withRetrainLock(() =>
      withScratch(async (work) => {
        const local = new ModelRegistry(join(work, "registry"));
        const start = await registry.current();
        if (start) {
          options.onProgress?.(`copying ${start} from ${registry.location}`);
          await materialiseVersion(registry, local, start);
          await local.promote(start);
        }
        const candidate = await registry.reserveVersion();
        const report = await run(local.root, candidate);
        let out: R = { ...report, registry: registry.location, pruned: [] };
        if (report.candidateVersion === null) return out;
        await registry.publish(local.versionDir(candidate), candidate);
        if (report.promoted) {
          try {
            await registry.promote(candidate, { expectCurrent: start });
            out.pruned = await registry.prune(options.keepVersions ?? DEFAULT_KEEP_VERSIONS);
          } catch (err) {
            if (!(err instanceof TriageError) || !/changed to/.test(err.message)) throw err;
            out = { ...out, promoted: false, served: (await registry.current()) ?? candidate, reason: `${err.message}; the candidate was: ${report.reason}` };
          }
        }
        await registry.writeReport(candidate, out);
        return out;
      }),
    );
  } finally {
    await registry.close();
  }
}

/** `triage retrain --registry postgres://…` for a tier model. */
export function retrainShared(url: string, options: Omit<RetrainOptions, "registry" | "candidateVersion">): Promise<RetrainReport> {
  return inSharedRegistry(url, options, (root, candidate) => retrain({ ...options, registry: root, candidateVersion: candidate }));
}

/**
 * `triage train --registry postgres://…`: `build` writes an artifact into the folder it is given; that
 * artifact becomes the shared registry's new current version, and versions beyond `keepVersions` are pruned.
 */
export async function publishTrained<T>(
  url: string,
  build: (dir: string) => Promise<T>,
  keepVersions = DEFAULT_KEEP_VERSIONS,
): Promise<{ built: T; version: string; pruned: string[]; location: string }> {
  const registry = await PgModelRegistry.open(url);
  try {
    return await registry.withRetrainLock(() =>
      withScratch(async (work) => {
        const dir = join(work, "model");
        const built = await build(dir);
        const version = await registry.publish(dir);
        await registry.promote(version);
        return { built, version, pruned: await registry.prune(keepVersions), location: registry.location };
      }),
    );
  } finally {
    await registry.close();
  }
}

/** The shared registry's current version's manifest `kind` ("outcomes" for an outcome model), or undefined for a tier model or none yet. */
export async function sharedModelKind(url: string): Promise<string | undefined> {
  const registry = await PgModelRegistry.open(url);
  try {
    // The versions' manifests only: fetching the current version would transfer all of its files.
    const current = (await registry.list()).find((v) => v.current);
    const kind = (current?.manifest as { kind?: unknown } | null | undefined)?.kind;
    return typeof kind === "string" ? kind : undefined;
  } finally {
    await registry.close();
  }
}
