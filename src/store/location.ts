/**
 * @module Where a decision log lives: a SQLite file path, or a PostgreSQL server given as a
 * postgres:// or postgresql:// URL. A URL is only ever shown without its password.
 */

/** True for postgres:// and postgresql:// URLs; anything else is a SQLite file path. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/** The URL with its password replaced by ***, also when the URL does not parse (for error messages). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    for (const key of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(key)) u.searchParams.set(key, "***");
    return u.toString();
  } catch {
    return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
  }
}
