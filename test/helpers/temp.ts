/**
 * @module Temporary folders for tests, under the system temp folder, removed when their test file ends
 * (test/setup/remove-temp.ts). They used to be left behind: on a machine that had run the suite a few
 * dozen times they came to some 22,000 folders and 63 GB, and the disk filled mid-run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();

/** A new empty folder `<system temp>/<prefix>XXXXXX`, removed after the test file that made it. */
export function tempDir(prefix = "triage-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every folder tempDir made in this test file; one still in use by a stopped-late process is retried, then left. */
export function removeTempDirs(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Cleanup must not fail a test file that passed.
    }
    made.delete(dir);
  }
}
