import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecisionLog } from "../../src/store/index.js";
import { makeDecision } from "./make-decision.js";
import { tempDir } from "../helpers/temp.js";

const child = join(dirname(fileURLToPath(import.meta.url)), "crash-child.ts");
let dir: string;
beforeAll(() => {
  dir = tempDir("triage-crash-");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child; in "kill" mode SIGKILLs it once it has reported `killAfter` committed rows. Resolves to the last count it reported. */
function runChild(path: string, mode: "kill" | "strict" | "exit", killAfter = 0, feedback = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, path, mode, ...(feedback ? ["feedback"] : [])], { stdio: ["ignore", "pipe", "pipe"] });
    let committed = 0;
    let buffered = "";
    let stderr = "";
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    proc.stdout.on("data", (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^committed (\d+)$/.exec(line);
        if (m) committed = Number(m[1]);
      }
      if (mode !== "exit" && committed >= killAfter && !proc.killed) proc.kill("SIGKILL");
    });
    proc.on("error", reject);
    proc.on("exit", (code, signal) => {
      if (mode !== "exit" && signal !== "SIGKILL") reject(new Error(`child ended by itself (code ${code}): ${stderr}`));
      else if (mode === "exit" && code !== 0) reject(new Error(`child failed (code ${code}): ${stderr}`));
      else resolve(committed);
    });
  });
}

// Concurrent: each test spends most of its time starting a tsx child process.
describe.concurrent("DecisionLog crash safety", () => {
  it("keeps every committed row when the writer is SIGKILLed mid-stream", async () => {
    const path = join(dir, "crash.db");
    const reported = await runChild(path, "kill", 1500);
    expect(reported).toBeGreaterThanOrEqual(1500);

    // Look at the file exactly as the crash left it, before any triage code touches it.
    const raw = new Database(path);
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    const ids = (raw.prepare("SELECT request_id FROM decisions").all() as { request_id: string }[]).map((r) => Number(r.request_id.slice(1)));
    raw.close();
    const present = new Set(ids);
    const missing = Array.from({ length: reported }, (_, i) => i).filter((i) => !present.has(i));
    expect(missing).toEqual([]); // every row the child saw committed is there
    // Rows after the last report can only come from flushes that completed before the kill landed.
    expect(ids.length).toBeGreaterThanOrEqual(reported);

    const log = DecisionLog.open(path);
    log.log(makeDecision({ requestId: "after-crash" }), "still writable");
    log.close();
    const reopened = DecisionLog.open(path, { readonly: true });
    expect(reopened.count()).toBe(ids.length + 1);
    reopened.close();
  });

  it("strict: every decision acknowledged before a SIGKILL is in the log", async () => {
    const path = join(dir, "strict.db");
    const reported = await runChild(path, "strict", 500);
    expect(reported).toBeGreaterThanOrEqual(500);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    const present = new Set((raw.prepare("SELECT request_id FROM decisions").all() as { request_id: string }[]).map((r) => r.request_id));
    raw.close();
    const missing = Array.from({ length: reported }, (_, i) => `r${i}`).filter((id) => !present.has(id));
    expect(missing).toEqual([]);
  });

  it.each(["kill", "strict"] as const)("%s: feedback acknowledged before a SIGKILL is in the log, each row after its decision", async (mode) => {
    const path = join(dir, `feedback-${mode}.db`);
    const reported = await runChild(path, mode, 500, true);
    expect(reported).toBeGreaterThanOrEqual(500);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(raw.pragma("foreign_key_check")).toEqual([]);
    const rows = raw.prepare("SELECT f.request_id, f.tokens_in, d.id AS decision FROM feedback f LEFT JOIN decisions d USING (request_id) ORDER BY f.id").all() as {
      request_id: string;
      tokens_in: number;
      decision: number | null;
    }[];
    raw.close();
    expect(rows.filter((r) => r.decision === null)).toEqual([]);
    const present = new Set(rows.map((r) => r.tokens_in));
    const missing = Array.from({ length: reported }, (_, i) => i).filter((i) => !present.has(i));
    expect(missing).toEqual([]);
    expect(rows.map((r) => r.tokens_in)).toEqual(rows.map((_, i) => i)); // in the order queued, nothing skipped
  });

  it("writes queued rows on a normal exit even without close()", async () => {
    const path = join(dir, "exit.db");
    await runChild(path, "exit");
    const log = DecisionLog.open(path, { readonly: true });
    expect(log.count()).toBe(100);
    log.close();
  });
});
