// `triage serve` behind an egress proxy: it says once, at start-up, which providers' calls go through which
// proxy (never its password), and a malformed proxy variable ends it with one line naming the variable.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/tiers.js";

const run = promisify(execFile);
const work = tempDir("triage-serve-egress-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `triage serve` with a model that does not exist (it stops before serving) and exactly these proxy variables. */
async function serve(workers: string, proxyEnv: Record<string, string>): Promise<{ stderr: string; code: number }> {
  const env: Record<string, string | undefined> = { ...process.env, TRIAGE_PROVIDER_BASE_URL: "https://api.example.com/v1", ...proxyEnv };
  for (const name of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"]) if (!(name in proxyEnv)) delete env[name];
  const args = [...CLI, "serve", "--model", join(work, "no-model"), "--port", "0", "--workers", workers];
  try {
    const { stderr } = await run(process.execPath, args, { cwd: work, env, timeout: 60_000 });
    return { stderr, code: 0 };
  } catch (err) {
    const e = err as { stderr: string; code: number };
    return { stderr: e.stderr, code: e.code };
  }
}

const SAID = "triage serve: upstream calls go through the proxy http://ops@proxy.corp:3128 (default)";

it.each(["1", "2"])("--workers %s says once that upstream calls go through HTTPS_PROXY, without its password", async (workers) => {
  const r = await serve(workers, { HTTPS_PROXY: "http://ops:s3cret@proxy.corp:3128", NO_PROXY: "localhost" });
  expect(r.stderr.split("\n").filter((l) => l.includes("upstream calls"))).toEqual([SAID]);
  expect(r.stderr).not.toContain("s3cret");
});

it("a malformed proxy variable is one line naming it, before anything starts", async () => {
  const r = await serve("1", { https_proxy: "socks5://ops:s3cret@proxy.corp:1080" });
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe('triage: https_proxy: "socks5://ops@proxy.corp:1080" is not a proxy URL (http://host:port or https://host:port)');
});
