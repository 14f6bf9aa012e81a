/** @module Deleting logged decisions (their feedback goes with them): by age, then beyond a row cap, in bounded steps. */
import type Database from "better-sqlite3";
import { TriageError } from "../common/errors.js";

export interface PruneOptions {
  /** Decisions older than this are deleted. */
  olderThanMs?: number;
  /** Then all but the newest this many. */
  maxRows?: number;
  now?: number;
  /** At most this many deletions in one call, the oldest first. */
  limit?: number;
}

/** Throws a TriageError naming the first option that is not a valid number. */
export function checkPruneOptions({ olderThanMs, maxRows, limit }: PruneOptions): void {
  if (olderThanMs !== undefined && !(Number.isFinite(olderThanMs) && olderThanMs >= 0))
    throw new TriageError(`prune: olderThanMs must be a non-negative number of ms, got ${olderThanMs}`);
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0)) throw new TriageError(`prune: maxRows must be a non-negative integer, got ${maxRows}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new TriageError(`prune: limit must be a positive integer, got ${limit}`);
}

/** Deletes in one transaction what `options` says (checked first with checkPruneOptions); returns decisions deleted. */
export function pruneDecisions(db: Database.Database, options: PruneOptions): number {
  const { olderThanMs, maxRows, limit } = options;
  const now = options.now ?? Date.now();
  return db.transaction(() => {
    let deleted = 0;
    if (olderThanMs !== undefined)
      deleted += db.prepare("DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE ts < ? ORDER BY ts LIMIT ?)").run(now - olderThanMs, limit ?? -1).changes; // LIMIT -1: no limit
    const left = limit === undefined ? Infinity : limit - deleted;
    if (maxRows !== undefined && left > 0) {
      const surplus = rowsBeyond(db, maxRows);
      if (surplus > 0) deleted += db.prepare("DELETE FROM decisions WHERE id IN (SELECT id FROM decisions ORDER BY id LIMIT ?)").run(Math.min(surplus, left)).changes;
    }
    return deleted;
  })();
}

/** How many decisions exceed `maxRows`; counts only when the id range says the cap may be exceeded. */
function rowsBeyond(db: Database.Database, maxRows: number): number {
  const range = db.prepare("SELECT MIN(id) AS lo, MAX(id) AS hi FROM decisions").get() as { lo: number | null; hi: number | null };
  if (range.lo === null || range.hi === null || range.hi - range.lo + 1 <= maxRows) return 0;
  const { n } = db.prepare("SELECT COUNT(*) AS n FROM decisions").get() as { n: number };
  return Math.max(0, n - maxRows);
}
