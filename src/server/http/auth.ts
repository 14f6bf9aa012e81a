/**
 * Bearer-token roles. Tokens are compared as SHA-256 digests with timingSafeEqual, over every token of
 * both roles, so timing reveals neither a token, nor which one matched, nor its role.
 *
 * - data-plane keys (TRIAGE_API_KEYS, `auth.tokens`): /v1/route, /v1/chat/completions, /v1/models,
 *   /v1/feedback, /metrics;
 * - admin keys (TRIAGE_ADMIN_KEYS, `auth.adminTokens`): /admin/* and /v1/stats (it shows each caller's
 *   spend and `user` tags), and everything a data-plane key may call.
 * With no key of either kind auth is off. With data-plane keys only, /admin/* and /v1/stats answer 403.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type Role = "data" | "admin";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** null when auth is off (no tokens of either kind); else the role of a presented token, or undefined. */
export function roleMatcher(dataTokens: readonly string[], adminTokens: readonly string[]): ((token: string) => Role | undefined) | null {
  const known = [...dataTokens.map((t) => ({ d: digest(t), role: "data" as Role })), ...adminTokens.map((t) => ({ d: digest(t), role: "admin" as Role }))];
  if (known.length === 0) return null;
  return (token) => {
    const presented = digest(token);
    let role: Role | undefined;
    // No early exit; admin wins when a token is listed under both.
    for (const k of known) if (timingSafeEqual(presented, k.d) && role !== "admin") role = k.role;
    return role;
  };
}
