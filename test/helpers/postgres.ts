/**
 * @module A throwaway PostgreSQL for tests: Debian's `postgresql` package (or the binaries in
 * TRIAGE_PG_BIN), `initdb` into a temp folder, `pg_ctl` on a free loopback port with its socket in that
 * folder, removed afterwards. PostgreSQL refuses to run as root, so as root the server runs as the
 * package's `postgres` user. Absent on a developer's machine, the Postgres tests skip with one line; in
 * CI (CI set) its absence fails them, so they never silently vanish.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PG_SKIP_REASON = "PostgreSQL tests: skipped, no PostgreSQL binaries found (apt-get install -y postgresql, or set TRIAGE_PG_BIN to the folder holding initdb)";

/** The folder holding initdb and pg_ctl, or null. */
export function findPostgres(): string | null {
  const given = process.env.TRIAGE_PG_BIN;
  if (given) return existsSync(join(given, "initdb")) ? given : null;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], "bin") : null;
}

export interface TestPostgres {
  /** postgres://… for the `triage` database on 127.0.0.1. */
  url: string;
  port: number;
  /** The temp folder holding the cluster, its socket and its log. */
  dir: string;
  /** A URL for another fresh database on the same server. */
  createDatabase(name: string): string;
  /** The server's processes (the postmaster and its children), e.g. to freeze it with SIGSTOP. */
  pids(): number[];
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Starts a fresh server; call stop() in afterAll. Throws when no binaries are found. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgres();
  if (!bin) throw new Error(PG_SKIP_REASON);
  const root = mkdtempSync(join(tmpdir(), "triage-pg-"));
  const data = join(root, "data");
  const asRoot = process.getuid?.() === 0;
  let uid: number | undefined;
  if (asRoot) {
    uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(root, uid, gid);
    chmodSync(root, 0o755);
  }
  const run = (cmd: string, args: string[]) => {
    const full = join(bin, cmd);
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", full, ...args]] : [full, args];
    return execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], cwd: root });
  };
  run("initdb", ["-D", data, "-U", "triage", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  // Loopback only, the socket inside the temp folder, fsync off: a test server, thrown away afterwards.
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${root} -c fsync=off -c full_page_writes=off -c max_connections=200`;
  run("pg_ctl", ["-D", data, "-o", opts, "-l", join(root, "server.log"), "-w", "-t", "60", "start"]);
  const createDatabase = (name: string) => {
    run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "triage", name]);
    return `postgres://triage@127.0.0.1:${port}/${name}`;
  };
  const url = createDatabase("triage");
  let stopped = false;
  return {
    url,
    port,
    dir: root,
    createDatabase,
    pids() {
      const main = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(main)], { encoding: "utf8" })
        .split("\n")
        .map((l) => Number(l.trim()))
        .filter((pid) => pid > 0);
      return [main, ...children];
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
