/**
 * @module One way to open a decision log wherever it lives: `openDecisionLog(location)` opens a SQLite
 * file, or a PostgreSQL database for a postgres:// or postgresql:// URL; both are DecisionStores.
 */
import { isPostgresUrl } from "./location.js";
import { DecisionLog } from "./log.js";
import type { DecisionLogOptions } from "./options.js";
import { PgDecisionLog } from "./postgres/log.js";
import type { DecisionStore } from "./store.js";

/** Opens (creating and migrating unless read-only) the decision log at a file path or a postgres:// URL. */
export async function openDecisionLog(location: string, options: DecisionLogOptions = {}): Promise<DecisionStore> {
  if (isPostgresUrl(location)) return PgDecisionLog.open(location, options);
  return DecisionLog.open(location, options);
}
