/**
 * Hot reload of the model: on POST /admin/reload and when the watched file changes (a registry's
 * `current` pointer when there is one, else the artifact's manifest.json). Router.reload() loads the new
 * artifact completely before swapping it in, so a failed load keeps the old model serving and in-flight
 * requests are never dropped. Reloads are serialised.
 */
import { existsSync, unwatchFile, watchFile, type StatWatcher } from "node:fs";
import { join } from "node:path";
import type { Router } from "../router/router.js";

export interface ReloadResult {
  ok: boolean;
  version: string;
  previousVersion: string;
  error?: string;
}

export class ModelReloader {
  private chain: Promise<unknown> = Promise.resolve();
  private watched: { path: string; watcher: StatWatcher; listener: () => void } | undefined;

  constructor(
    private readonly router: Router,
    private readonly onResult: (result: ReloadResult, trigger: "admin" | "watch") => void = () => {},
  ) {}

  reload(trigger: "admin" | "watch" = "admin"): Promise<ReloadResult> {
    const run = async (): Promise<ReloadResult> => {
      const previousVersion = this.router.version;
      let result: ReloadResult;
      try {
        await this.router.reload();
        result = { ok: true, version: this.router.version, previousVersion };
      } catch (err) {
        result = { ok: false, version: this.router.version, previousVersion, error: (err as Error).message };
      }
      this.onResult(result, trigger);
      return result;
    };
    const next = this.chain.then(run, run);
    this.chain = next;
    return next;
  }

  /** The file whose change means "a new model": `current` in the served directory when present, else its manifest.json. */
  static watchTarget(servedDir: string, router: Router): string {
    const pointer = join(servedDir, "current");
    return existsSync(pointer) ? pointer : join(router.dir, "manifest.json");
  }

  watch(path: string, intervalMs: number): void {
    this.stop();
    const listener = () => void this.reload("watch");
    // Polling stat (not fs.watch): sees atomic renames and works on network and container filesystems.
    const watcher = watchFile(path, { interval: intervalMs, persistent: false }, listener);
    this.watched = { path, watcher, listener };
  }

  stop(): void {
    if (!this.watched) return;
    unwatchFile(this.watched.path, this.watched.listener);
    this.watched = undefined;
  }

  /** Resolves once no reload is running. */
  idle(): Promise<void> {
    return this.chain.then(
      () => undefined,
      () => undefined,
    );
  }
}
