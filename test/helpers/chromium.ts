/**
 * @module Headless Chromium for the browser tests, through playwright-core (no bundled browser download):
 * Debian's `chromium` package, or the one TRIAGE_CHROMIUM names. Absent on a developer's machine, the
 * browser tests skip with one line; in CI (CI set) its absence fails them, so they never silently vanish.
 */
import { existsSync } from "node:fs";
import { chromium, type BrowserContext } from "playwright-core";
import { tempDir } from "./temp.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function findChromium(): string | null {
  const given = process.env.TRIAGE_CHROMIUM;
  if (given) return existsSync(given) ? given : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export const SKIP_REASON = "browser tests: skipped, no Chromium found (apt-get install -y chromium, or set TRIAGE_CHROMIUM)";

/** A fresh profile each time, no network beyond loopback, nothing phoned home. */
export async function launchChromium(executablePath: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir("triage-chromium-"), {
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 },
    timeout: 60_000,
  });
}
