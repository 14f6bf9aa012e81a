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
