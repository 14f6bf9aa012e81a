/**
 * @module A shared registry's address: recognising a postgres:// URL, and the URL as messages name it,
 * without its password (errors end up in logs and terminals).
 */
import { TriageError } from "../common/errors.js";

/** True for a postgres:// or postgresql:// URL (anything else is a registry folder). */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** The URL with any password removed (also when it does not parse). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === "") return url;
    u.password = "";
    return u.toString().replace(/^([^:]+:\/\/[^@/]*):@/, "$1@");
  } catch {
    return url.replace(/^([^:]+:\/\/[^:@/]*):[^@]*@/, "$1@");
  }
}

/** Throws a one-line TriageError naming the (redacted) URL unless it is a usable postgres:// URL. */
export function checkPostgresUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TriageError(`${redactUrl(url)}: not a valid PostgreSQL URL (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)`);
  }
  if (!isPostgresUrl(url)) throw new TriageError(`${redactUrl(url)}: not a PostgreSQL URL (expected postgres://…)`);
  if (u.hostname === "" || u.pathname.length <= 1)
    throw new TriageError(`${redactUrl(url)}: a PostgreSQL registry URL needs a host and a database (postgres://USER@HOST[:PORT]/DATABASE)`);
}

/** A driver or connection error as one line naming the registry. */
export function registryError(url: string, what: string, err: unknown): TriageError {
  if (err instanceof TriageError) return err;
  const e = err as NodeJS.ErrnoException & { errors?: Error[] };
  // A refused connection to a host with several addresses is an AggregateError with an empty message.
  const detail = (e.message || e.errors?.map((x) => x.message).join("; ") || e.code || String(err)).split("\n")[0];
  return new TriageError(`${redactUrl(url)}: ${what} (${detail})`);
}
