import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isRegistry } from "./registry.js";
import { ARTIFACT_FILES, POINTER_FILE } from "./files.js";

export const DEFAULT_WATCH_INTERVAL_MS = 1000;

export interface ModelWatcher {
  stop(): void;
}

/**
 * What identifies the model `dir` currently stands for, read cheaply: a registry's pointer content, or
 * for a plain artifact dir its manifest's inode and mtime (train replaces the whole dir by rename).
 * null when it cannot be read right now.
 */
export function modelStamp(dir: string): string | null {
  try {
    if (isRegistry(dir)) return readFileSync(join(dir, POINTER_FILE), "utf8");
    const s = statSync(join(dir, ARTIFACT_FILES.manifest));
    return `${s.ino}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

/**
 * Polls `dir` every `intervalMs` (unref'd: never keeps the process alive) and calls `onChange` when
 * the model it stands for changed. A change is acted on once: if `onChange` fails the old model keeps
 * serving and the failure goes to `onError`; the next change is tried again. Ticks never overlap.
 */
export function watchModel(dir: string, initialStamp: string | null, intervalMs: number, onChange: () => Promise<void>, onError: (error: Error) => void): ModelWatcher {
  let seen = initialStamp;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const stamp = modelStamp(dir);
    if (stamp === null || stamp === seen) return;
    seen = stamp;
    busy = true;
    onChange()
      .catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** How a loaded router asks to follow its model dir (Router's and OutcomeRouter's `watch` options). */
export interface WatchOptions {
  /**
   * Auto-reload: poll the model dir (a registry's `current` pointer, or an artifact's manifest) and
   * reload() when it changes. true = every second. Off by default.
   */
  watch?: boolean | { intervalMs?: number };
  /** Called after an automatic reload with the new model version. */
  onReload?: (version: string) => void;
  /** An automatic reload failed; the old model keeps serving. Default: a process warning. */
  onError?: (error: Error) => void;
}

/** What a router that reloads its model in place exposes to the watcher. */
export interface Reloadable {
  readonly dir: string;
  readonly version: string;
  reload(): Promise<unknown>;
}

/**
 * Follows `router.dir` as `options.watch` asks (undefined when it asks for nothing): reloads on each change,
 * reports a new version to `onReload` and a failed reload to `onError`. `stamp` is read before the first
 * load, so a switch during that load is seen.
 */
export function watchReloads(router: Reloadable, stamp: string | null, options: WatchOptions): ModelWatcher | undefined {
  if (!options.watch) return undefined;
  const onError = options.onError ?? ((e: Error) => process.emitWarning(`model reload failed, still serving ${router.version}: ${e.message}`, "TriageRouter"));
  const interval = typeof options.watch === "object" ? options.watch.intervalMs : undefined;
  return watchModel(
    router.dir,
    stamp,
    interval ?? DEFAULT_WATCH_INTERVAL_MS,
    async () => {
      const before = router.version;
      await router.reload();
      if (router.version !== before) options.onReload?.(router.version);
    },
    onError,
  );
}
