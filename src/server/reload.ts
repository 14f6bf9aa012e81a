/**
 * @module Hot reload of the model: on POST /admin/reload and when the served directory stands for a new
 * model (a registry's `current` pointer switched, or an artifact rewritten: model/watch.ts, the same
 * watcher `Router.load({ watch })` uses). Router.reload() loads the new artifact completely before
 * swapping it in, so a failed load keeps the old model serving and in-flight requests are never dropped.
 * Reloads are serialised. Serving a shared registry (`serve --registry postgres://…`), the replica's local
 * switch drives the reload instead (follow()).
 */
import { modelStamp, watchModel, type ModelWatcher } from "../model/watch.js";
import type { RegistryFollower } from "../model/registry-api.js";
import type { AnyRouter } from "../outcomes/open.js";

export interface ReloadResult {
  ok: boolean;
  version: string;
  previousVersion: string;
  error?: string;
}

export class ModelReloader {
  private chain: Promise<unknown> = Promise.resolve();
  private watcher: ModelWatcher | undefined;
  private unfollow: (() => void) | undefined;
  /** The outcome of the newest reload, if any ran. */
  last: ReloadResult | undefined;

  constructor(
    private readonly router: AnyRouter,
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
      this.last = result;
      this.onResult(result, trigger);
      return result;
    };
    const next = this.chain.then(run, run);
    this.chain = next;
    return next;
  }

  /** Reloads whenever the model `servedDir` (an artifact or a registry) stands for changes; polls every `intervalMs`. */
  watch(servedDir: string, intervalMs: number): void {
    this.stop();
    // reload() reports its own failures through onResult and never rejects.
    this.watcher = watchModel(
      servedDir,
      modelStamp(servedDir),
      intervalMs,
      () => this.reload("watch").then(() => undefined),
      () => {},
    );
  }

  /** Reloads each time a shared registry's replica switched its local copy to another version. */
  follow(replica: RegistryFollower): void {
    this.stop();
    this.unfollow = replica.onSwitch(() => void this.reload("watch"));
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.unfollow?.();
    this.unfollow = undefined;
  }

  /** Resolves once no reload is running. */
  idle(): Promise<void> {
    return this.chain.then(
      () => undefined,
      () => undefined,
    );
  }
}
