/**
 * @module The `--log-db` flag of the commands that read or write a decision log: a SQLite file or a
 * postgres:// URL, defaulting to TRIAGE_LOG_DB so a URL holding a password need not be on a command line.
 */
import { Option } from "commander";

export const LOG_DB_ENV = "TRIAGE_LOG_DB";

/** The --log-db option (TRIAGE_LOG_DB when not given), required unless `required` is false; `what` says what the command does with it. */
export function logDbOption(what: string, required = true): Option {
  const option = new Option("--log-db <file|url>", `decision log: a SQLite file or a postgres:// URL${what ? `; ${what}` : ""}`).env(LOG_DB_ENV);
  return required ? option.makeOptionMandatory() : option;
}
