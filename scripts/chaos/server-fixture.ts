/**
 * @module What the server fault groups (providers.ts, bodies.ts) share: a tiers model trained in a temp
 * dir from data/tiers, servers on 127.0.0.1 with a decision log in that dir, a bounded openai client, the
 * cleanup, and running a group alone (`npx tsx scripts/chaos/providers.ts`) with a printed table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { UseEncoder } from "../../src/encoders/use/encoder.js";
import { Router } from "../../src/router/router.js";
import { createServer, type CreateServerOptions, type TriageServer } from "../../src/server/index.js";
import { DecisionLog } from "../../src/store/index.js";
import { train } from "../../src/train/train.js";
import type { ChaosGroup, ChaosRow } from "./types.js";

const DATA = join(import.meta.dirname, "..", "..", "data", "tiers");

export interface ChaosServer {
  server: TriageServer;
  url: string;
  /** The real openai client, bounded: 10 s per request, no retries. */
  client: OpenAI;
  log: DecisionLog;
  /** What the server reported to its log (onError). */
  reports: Error[];
}

export interface ChaosFixture {
  router: Router;
  /** A server with its own decision log in the temp dir; closed by cleanup(). */
  serve(config: NonNullable<CreateServerOptions["config"]>): Promise<ChaosServer>;
  cleanup(): Promise<void>;
}

export async function chaosFixture(): Promise<ChaosFixture> {
  const dir = mkdtempSync(join(tmpdir(), "triage-chaos-"));
  const servers: ChaosServer[] = [];
  let router: Router | undefined;
  const cleanup = async () => {
    for (const s of servers) {
      await s.server.close();
      s.log.close();
    }
    await router?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const encoder = await UseEncoder.load();
    await train({ data: join(DATA, "train.jsonl"), config: join(DATA, "tiers.yaml"), encoder, out: join(dir, "model"), folds: 3 });
    router = await Router.load(join(dir, "model"), { encoder });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const loaded = router;
  return {
    router: loaded,
    async serve(config) {
      const reports: Error[] = [];
      const log = DecisionLog.open(join(dir, `log-${servers.length}.db`));
      const server = await createServer({ model: loaded, config: { reload: { watch: false, intervalMs: 1000 }, ...config }, log, onError: (e) => void reports.push(e) });
      const { url } = await server.start(0, "127.0.0.1");
      const s: ChaosServer = { server, url, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 10_000 }), log, reports };
      servers.push(s);
      return s;
    },
    cleanup,
  };
}

/** A row whose check threw: the fault is reported as failing, with what went wrong. */
export async function row(group: string, fault: string, expected: string, check: () => Promise<{ observed: string; pass: boolean }>): Promise<ChaosRow> {
  try {
    return { group, fault, expected, ...(await check()) };
  } catch (err) {
    let inner: unknown = err;
    while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
    const cause = inner !== err ? ` (${(inner as Error).message})` : "";
    return { group, fault, expected, observed: `check failed: ${(err as Error).message}${cause}`, pass: false };
  }
}

export function formatRows(rows: readonly ChaosRow[]): string {
  const cells = rows.map((r) => [r.group, r.fault, r.expected, r.observed, r.pass ? "pass" : "FAIL"]);
  const head = ["group", "fault", "expected", "observed", ""];
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(width[i])).join(" | ")} |`;
  return [line(head), line(width.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Runs a group when its file is the script run (`npx tsx scripts/chaos/<group>.ts`): prints its table, exit 1 on a failing row. */
export async function runIfMain(meta: ImportMeta, group: ChaosGroup): Promise<void> {
  if (process.argv[1] === undefined || meta.url !== pathToFileURL(process.argv[1]).href) return;
  // Bounded: a fault that hangs the harness itself must not keep the run alive.
  setTimeout(() => {
    process.stderr.write("chaos: gave up after 5 minutes\n");
    process.exit(2);
  }, 300_000).unref();
  const rows = await group();
  process.stdout.write(formatRows(rows) + "\n");
  process.exitCode = rows.every((r) => r.pass) ? 0 : 1;
}
