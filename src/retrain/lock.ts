import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { TriageError } from "../common/errors.js";

/**
 * An exclusive lock file holding the owner's pid (created with O_EXCL). A lock left by a process that
 * no longer exists (killed mid-retrain) is taken over. Returns the release function.
 */
export function acquireLock(path: string, what: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new TriageError(`${path}: cannot take the ${what} lock (${(err as Error).message})`);
      const owner = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner))
        throw new TriageError(`${what} is already running (pid ${owner}, lock ${path}); wait for it or remove the lock if that process is gone`);
      rmSync(path, { force: true }); // stale: its owner died
    }
  }
  throw new TriageError(`${path}: cannot take the ${what} lock (another process keeps recreating it)`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
