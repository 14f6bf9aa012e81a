/**
 * @module What every model registry offers the commands that manage one (`models`, `rollback`, the
 * dashboard, retrain's publishing): the folder registry (registry.ts) and the shared PostgreSQL one
 * (registry-pg.ts) both implement it, so a command takes either a directory or a postgres:// URL.
 * Async throughout because the shared one is a database.
 */
import type { Manifest } from "./artifact.js";
import { ModelRegistry, type Pointer } from "./registry.js";

/** One version as a listing shows it; `dir` only for a folder registry. */
export interface RegistryEntry {
  version: string;
  current: boolean;
  previous: boolean;
  /** null when the version holds no readable manifest (reported in `error`). */
  manifest: Manifest | null;
  error?: string;
  dir?: string;
}

export interface VersionRegistry {
  /** Where it is, for messages: a directory, or a URL without its password. */
  readonly location: string;
  pointer(): Promise<Pointer | null>;
  /** Versions, oldest first. */
  list(): Promise<RegistryEntry[]>;
  /** The version's retrain report, or null. */
  readReport(version: string): Promise<unknown>;
  /** Points `current` at `version` after checking it can be served; the old one becomes `previous`. */
  promote(version: string): Promise<Pointer>;
  /** Back to `previous` (or `to`). */
  rollback(to?: string): Promise<{ from: string; to: string }>;
  close(): Promise<void>;
}

/** The folder registry behind the shared interface. */
export class FolderRegistry implements VersionRegistry {
  readonly registry: ModelRegistry;

  constructor(root: string) {
    this.registry = new ModelRegistry(root);
  }

  get location(): string {
    return this.registry.root;
  }

  async pointer(): Promise<Pointer | null> {
    return this.registry.pointer();
  }

  async list(): Promise<RegistryEntry[]> {
    return this.registry.list();
  }

  async readReport(version: string): Promise<unknown> {
    return this.registry.readReport(version);
  }

  async promote(version: string): Promise<Pointer> {
    return this.registry.promote(version);
  }

  async rollback(to?: string): Promise<{ from: string; to: string }> {
    return this.registry.rollback(to);
  }

  async close(): Promise<void> {}
}

/** A serving copy of a shared registry (registry-replica.ts), as the server and dashboard use it. */
export interface RegistryFollower {
  readonly registry: VersionRegistry;
  /** The local folder registry the router loads. */
  readonly cacheDir: string;
  /** Brings the local copy to the registry's current version now; the version switched to, or null. */
  sync(): Promise<string | null>;
  /** Called after each local switch; returns the unsubscribe function. */
  onSwitch(listener: (version: string) => void): () => void;
}
