/**
 * @module One way to open a decision log wherever it lives: `openDecisionLog(location)` opens a SQLite
 * file, or a PostgreSQL database for a postgres:// or postgresql:// URL; both are DecisionStores.
 */
import { isPostgresUrl } from "./location.js";
import { DecisionLog } from "./log.js";
import type { DecisionLogOptions } from "./options.js";
import type { DecisionStore } from "./store.js";

/** Opens (creating and migrating unless read-only) the decision log at a file path or a postgres:// URL. */
export async function openDecisionLog(location: string, options: DecisionLogOptions = {}): Promise<DecisionStore> {
  // Loaded on demand: the pg client adds ~0.1 s to the start of every command that never uses it.
  if (isPostgresUrl(location)) return (await import("./postgres/log.js")).PgDecisionLog.open(location, options);
  return DecisionLog.open(location, options);
}
