/**
 * @module
 * The dashboard's facts on disk, beside a SQLite log (`<log>-dashboard`), or for a PostgreSQL log in the
 * user's cache folder under a name made from the database URL without its password
 * (`~/.cache/triage/dashboard-<db>-<hash>`), so a restart reads them back in milliseconds instead of
 * scanning every decision again (seconds per million rows): the columns as raw
 * typed arrays after a small JSON header. Only a file that starts with this module's magic line is ever
 * replaced (never a file triage did not write); it is written to a temporary name and renamed, off the
 * event loop. A snapshot that does not match the log (another log at the path, rows gone, other prices)
 * is ignored and rebuilt. Deleting the file is always safe.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";
import { TriageError } from "../../common/errors.js";
import type { DashboardLogReader } from "../../store/dashboard-queries.js";
import { COLUMNS, type Column, type ColumnName, type FactsState } from "./facts.js";

const MAGIC = Buffer.from("triage dashboard facts v1\n");

export function snapshotPath(logPath: string): string {
  return `${logPath}-dashboard`;
}

/** The user's cache folder for triage: $XDG_CACHE_HOME/triage, else ~/.cache/triage. */
export function cacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "triage");
}

/** Where the snapshot of a log's facts lives: beside a file, in the cache folder for a database (keyed by its URL without password). */
export function snapshotPathFor(reader: Pick<DashboardLogReader, "kind" | "path">): string {
  if (reader.kind === "sqlite") return snapshotPath(reader.path);
  const db = (/\/([\w.-]{1,40})(?:\?|$)/.exec(reader.path)?.[1] ?? "log").replace(/^\.+/, "");
  return join(cacheDir(), `dashboard-${db}-${createHash("sha256").update(reader.path).digest("hex").slice(0, 16)}`);
}

interface Header extends Omit<FactsState, "columns"> {
  log: string;
  rows: number;
  columns: Array<{ name: ColumnName; type: string; bytes: number }>;
}

const TYPES: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => Column> = {
  Float64Array,
  Float32Array,
  Uint32Array,
  Uint16Array,
};

/** True when `path` holds nothing, or a file this module wrote (so replacing it loses nothing of the user's). */
export function isOurs(path: string): boolean {
  if (!existsSync(path)) return true;
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(MAGIC.length);
    return readSync(fd, head, 0, MAGIC.length, 0) === MAGIC.length && head.equals(MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** Writes the state; refuses (TriageError) when the path holds a file triage did not write. */
export async function saveSnapshot(path: string, logIdentity: string, state: FactsState): Promise<void> {
  if (!isOurs(path)) throw new TriageError(`${path} exists and is not the dashboard's cache; not replacing it (the dashboard keeps its facts in memory only)`);
  const rows = state.columns.ids.length;
  const header: Header = {
    log: logIdentity,
    rows,
    lastId: state.lastId,
    lastFeedbackId: state.lastFeedbackId,
    ...(state.lateFloor === undefined ? {} : { lateFloor: state.lateFloor }),
    pricesKey: state.pricesKey,
    labels: state.labels,
    versions: state.versions,
    tagsets: state.tagsets,
    columns: COLUMNS.map((name) => ({ name, type: state.columns[name].constructor.name, bytes: state.columns[name].byteLength })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts: Uint8Array[] = [MAGIC, len, json];
  let offset = MAGIC.length + 4 + json.length;
  for (const name of COLUMNS) {
    const pad = (8 - (offset % 8)) % 8; // typed arrays read in place need aligned offsets
    parts.push(Buffer.alloc(pad));
    const c = state.columns[name];
    parts.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    offset += pad + c.byteLength;
  }
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }); // the cache folder, the first time
  try {
    await writeFile(tmp, parts);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The saved state when `path` holds one for this log, else null (missing, foreign, damaged or another log's). */
export function loadSnapshot(path: string, logIdentity: string): FactsState | null {
  if (!existsSync(path) || !isOurs(path)) return null;
  try {
    const file = readFileSync(path);
    const jsonLength = file.readUInt32LE(MAGIC.length);
    const start = MAGIC.length + 4;
    const header = JSON.parse(file.subarray(start, start + jsonLength).toString("utf8")) as Header;
    if (header.log !== logIdentity) return null;
    // One copy into an aligned buffer; the columns are views into it.
    const aligned = new ArrayBuffer(file.length);
    new Uint8Array(aligned).set(file);
    let offset = start + jsonLength;
    const columns = {} as Record<ColumnName, Column>;
    for (const c of header.columns) {
      offset += (8 - (offset % 8)) % 8;
      const Type = TYPES[c.type];
      if (!Type || !COLUMNS.includes(c.name)) return null;
      const per = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (c.bytes !== header.rows * per || offset + c.bytes > file.length) return null;
      columns[c.name] = new Type(aligned, offset, header.rows);
      offset += c.bytes;
    }
    if (COLUMNS.some((c) => !columns[c])) return null;
    return {
      lastId: header.lastId,
      lastFeedbackId: header.lastFeedbackId,
      ...(typeof header.lateFloor === "number" ? { lateFloor: header.lateFloor } : {}),
      pricesKey: header.pricesKey,
      labels: header.labels,
      versions: header.versions,
      tagsets: header.tagsets,
      columns,
    };
  } catch {
    return null; // damaged: rebuilt from the log
  }
}

/** For messages: the snapshot's file name. */
export const snapshotName = (logPath: string) => basename(snapshotPath(logPath));
