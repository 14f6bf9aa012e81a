/**
 * A command that ends early (a closed stdout, a signal, an error) while the USE encoder's thread is inside
 * a run: ending the process there made onnxruntime abort it ("terminate called after throwing an instance
 * of 'Napi::Error'", exit 134, about one run in three here). exitAfterThreads closes the thread first.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI } from "../../helpers/cli.js";

const child = join(import.meta.dirname, "exit-child.ts");
// CLI is [--import, <tsx loader>, main.ts]: the same loader, another entry.
const loader = CLI.slice(0, 2);

describe("ending the process during an encoder run", () => {
  it("exits 0 without an abort, every time", () => {
    for (let i = 0; i < 4; i++) {
      const r = spawnSync(process.execPath, [...loader, child], { encoding: "utf8", timeout: 60_000 });
      expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
      expect({ run: i, status: r.status, signal: r.signal }).toEqual({ run: i, status: 0, signal: null });
    }
  }, 240_000);
});
