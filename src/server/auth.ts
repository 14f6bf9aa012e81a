/** Bearer-token auth. Tokens are compared as SHA-256 digests with timingSafeEqual, over every token, so timing reveals neither a token nor which one matched. */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** null when auth is off (no tokens configured). */
export function tokenMatcher(tokens: readonly string[]): ((authorization: string | undefined) => boolean) | null {
  if (tokens.length === 0) return null;
  const digests = tokens.map(digest);
  return (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!m) return false;
    const presented = digest(m[1]);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(presented, d) || ok;
    return ok;
  };
}
