/**
 * @module
 * The model versions the dashboard knows: a registry's versions (with the retrain report of each, when
 * `triage retrain` made it), or the one artifact served. Decisions name the artifact version that made
 * them (manifest.version); this maps it back to the registry's name and directory, so a decision is
 * explained by the model that decided it. Read again when the registry changes, else kept for seconds.
 * A replica of a shared registry holds only the versions it loaded; its Models page lists the shared
 * registry's own versions instead.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { VersionRegistry } from "../../model/registry-api.js";
import { isRegistry, ModelRegistry } from "../../model/registry.js";
import { modelStamp } from "../../model/watch.js";
import type { OutcomeRetrainReport } from "../../outcomes/retrain.js";
import type { RetrainReport } from "../../retrain/retrain.js";
import { isOutcomeManifest, readAnyManifest, type AnyManifest } from "./model-kind.js";

export interface KnownVersion {
  /** Registry version name (v0003), or the artifact folder's name. */
  name: string;
  /** The version's folder (a shared registry's listing: its location and the version's name, for messages). */
  dir: string;
  /** A tier or an outcome model's manifest; null when it cannot be read (`error` says why). */
  manifest: AnyManifest | null;
  error?: string;
  current: boolean;
  previous: boolean;
  /** The report of the `triage retrain` run that trained it (held-out metrics), when there is one; `kind: "outcomes"` for an outcome model's. */
  report: RetrainReport | OutcomeRetrainReport | null;
}

export interface KnownVersions {
  registry: boolean;
  versions: KnownVersion[];
  /** By artifact version (what decisions log as modelVersion). */
  byModelVersion: Map<string, KnownVersion>;
}

const TTL_MS = 5000;

export class VersionCatalog {
  private cached: { key: string; at: number; value: KnownVersions } | undefined;
  private sharedCache: { at: number; value: Promise<KnownVersions> } | undefined;

  /** `shared`: the registry a replica follows (its local `dir` holds only the versions it loaded). */
  constructor(
    private readonly dir: string,
    private readonly shared?: VersionRegistry,
  ) {}

  /** Every version of the registry, for the Models page: the shared registry's own listing when there is one. */
  async listing(): Promise<KnownVersions> {
    if (!this.shared) return this.get();
    if (!this.sharedCache || Date.now() - this.sharedCache.at >= TTL_MS) {
      const value = readShared(this.shared);
      value.catch(() => (this.sharedCache = undefined)); // asked again at the next visit
      this.sharedCache = { at: Date.now(), value };
    }
    return this.sharedCache.value;
  }

  get(): KnownVersions {
    const key = `${modelStamp(this.dir)}|${versionsMtime(this.dir)}`;
    if (this.cached && this.cached.key === key && Date.now() - this.cached.at < TTL_MS) return this.cached.value;
    const value = read(this.dir);
    this.cached = { key, at: Date.now(), value };
    return value;
  }

  forget(): void {
    this.cached = undefined;
    this.sharedCache = undefined;
  }
}

function versionsMtime(dir: string): number {
  try {
    return statSync(join(dir, "versions")).mtimeMs;
  } catch {
    return 0;
  }
}

function read(dir: string): KnownVersions {
  let versions: KnownVersion[];
  const registry = isRegistry(dir);
  if (registry) {
    versions = new ModelRegistry(dir).list().map((v) => {
      const checked = v.manifest && isOutcomeManifest(v.manifest as AnyManifest) ? readChecked(v.dir) : { manifest: v.manifest, error: v.error };
      return {
        name: v.version,
        dir: v.dir,
        manifest: checked.manifest,
        ...(checked.error ? { error: checked.error } : {}),
        current: v.current,
        previous: v.previous,
        report: readReport(v.dir),
      };
    });
  } else {
    const { manifest, error } = readChecked(dir);
    versions = [{ name: dir.split(/[\\/]/).filter(Boolean).pop() ?? dir, dir, manifest, ...(error ? { error } : {}), current: true, previous: false, report: null }];
  }
  const byModelVersion = new Map<string, KnownVersion>();
  for (const v of versions) if (v.manifest) byModelVersion.set(v.manifest.version, v);
  return { registry, versions, byModelVersion };
}

/** The registry lists any manifest with labels; an outcome model's is checked in full by its own reader. */
function readChecked(dir: string): { manifest: AnyManifest | null; error?: string } {
  try {
    return { manifest: readAnyManifest(dir) };
  } catch (err) {
    return { manifest: null, error: (err as Error).message };
  }
}

async function readShared(registry: VersionRegistry): Promise<KnownVersions> {
  const versions = await Promise.all(
    (await registry.list()).map(async (v): Promise<KnownVersion> => {
      let report: KnownVersion["report"] = null;
      try {
        report = (await registry.readReport(v.version)) as KnownVersion["report"];
      } catch {
        // A report that cannot be read leaves its column empty; the version is still listed.
      }
      return {
        name: v.version,
        dir: `${registry.location} ${v.version}`,
        manifest: v.manifest,
        ...(v.error ? { error: v.error } : {}),
        current: v.current,
        previous: v.previous,
        report,
      };
    }),
  );
  const byModelVersion = new Map<string, KnownVersion>();
  for (const v of versions) if (v.manifest) byModelVersion.set(v.manifest.version, v);
  return { registry: true, versions, byModelVersion };
}

function readReport(dir: string): RetrainReport | OutcomeRetrainReport | null {
  const path = join(dir, "retrain-report.json");
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as RetrainReport | OutcomeRetrainReport;
  } catch {
    return null;
  }
}
