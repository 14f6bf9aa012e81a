/**
 * @module Retraining into a shared PostgreSQL registry (`triage retrain --registry postgres://…`): under the
 * registry's retrain lock, the current version is copied (verified) into a temporary folder registry,
 * retrain() runs there exactly as for a folder, and its candidate is published to the shared registry
 * under a version name reserved there. A promotion is switched in the shared registry only if its current
 * version is still the one the candidate was compared with; replicas then follow the NOTIFY.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TriageError } from "../common/errors.js";
import { DEFAULT_KEEP_VERSIONS, ModelRegistry } from "../model/registry.js";
import { PgModelRegistry } from "../model/registry-pg.js";
import { materialiseVersion } from "../model/registry-replica.js";
import { retrain, type RetrainOptions, type RetrainReport } from "./retrain.js";

export async function retrainShared(url: string, options: Omit<RetrainOptions, "registry" | "candidateVersion">): Promise<RetrainReport> {
  const registry = await PgModelRegistry.open(url);
  try {
    return await registry.withRetrainLock(async () => {
      const work = mkdtempSync(join(tmpdir(), "triage-retrain-"));
      try {
        const local = new ModelRegistry(join(work, "registry"));
        const start = await registry.current();
        if (start) {
          options.onProgress?.(`copying ${start} from ${registry.location}`);
          await materialiseVersion(registry, local, start);
          local.promote(start);
        }
        const candidate = await registry.reserveVersion();
        const report = await retrain({ ...options, registry: local.root, candidateVersion: candidate });
        let out: RetrainReport = { ...report, registry: registry.location, pruned: [] };
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
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  } finally {
    await registry.close();
  }
}
