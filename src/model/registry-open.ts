/**
 * @module Opening a registry by what the user typed: a postgres:// URL is the shared registry, anything
 * else a registry folder.
 */
import { existsSync } from "node:fs";
import { TriageError } from "../common/errors.js";
import { FolderRegistry, type VersionRegistry } from "./registry-api.js";
import { PgModelRegistry } from "./registry-pg.js";
import { isPostgresUrl } from "./registry-pg-url.js";

/** The registry at `spec`; `mustExist`: a folder that is not there is an error rather than an empty registry. */
export async function openVersionRegistry(spec: string, options: { mustExist?: boolean } = {}): Promise<VersionRegistry> {
  if (isPostgresUrl(spec)) return PgModelRegistry.open(spec);
  const registry = new FolderRegistry(spec);
  if (options.mustExist && !existsSync(registry.location)) throw new TriageError(`${spec}: no such registry`);
  return registry;
}
