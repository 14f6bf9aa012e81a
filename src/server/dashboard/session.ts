/**
 * @module
 * Dashboard login: a person pastes a bearer key once (a data-plane key from TRIAGE_API_KEYS or an admin
 * key from TRIAGE_ADMIN_KEYS, checked by the server's own role matcher) and gets a session cookie. The
 * cookie holds a random session id only (HttpOnly, SameSite=Strict, scoped to /dashboard), never the key;
 * sessions live in memory and end at logout, expiry or restart. Every state-changing request must also
 * carry the session's CSRF token in a header, which another site's page cannot read or send.
 * With a secret shared by the workers of one server (`serve --workers`), a session id is signed and its
 * CSRF token derived from it, so every worker accepts a session another opened (a logout then ends it
 * in the worker that saw it and in the browser; elsewhere a copied cookie stays valid until it expires).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { roleMatcher, type Role } from "../http/auth.js";

export const SESSION_COOKIE = "triage_session";
export const CSRF_HEADER = "x-triage-csrf";
const SESSION_TTL_MS = 12 * 3_600_000;
const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  role: Role;
  csrf: string;
  expires: number;
  /** Feedback rows written in this session: the only ones its undo may delete. */
  written: Set<number>;
}

export type DashboardEnv = { Variables: { session: Session } };

export class Sessions {
  private readonly byId = new Map<string, Session>();
  /** null: auth is off and every visitor acts as admin (as /admin/* does then; the server listens on loopback by default). */
  private readonly roleOf: ((token: string) => Role | undefined) | null;
  /** The one session everybody shares when auth is off. */
  private readonly open: Session | undefined;

  constructor(
    auth: { tokens: readonly string[]; adminTokens: readonly string[] },
    private readonly secret?: Uint8Array,
  ) {
    this.roleOf = roleMatcher(auth.tokens, auth.adminTokens);
    if (!this.roleOf) this.open = secret ? signedSession(secret, "admin", Number.POSITIVE_INFINITY, "open") : newSession("admin", Number.POSITIVE_INFINITY);
  }

  get authEnabled(): boolean {
    return this.roleOf !== null;
  }

  /** A session for a presented key, or undefined when the key is not one of ours. */
  login(key: string): Session | undefined {
    const role = this.roleOf?.(key.trim());
    if (!role) return undefined;
    this.expire();
    // Oldest first out: a flood of logins cannot grow memory without bound.
    while (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value as string);
    const s = this.secret ? signedSession(this.secret, role, Date.now() + SESSION_TTL_MS) : newSession(role, Date.now() + SESSION_TTL_MS);
    this.byId.set(s.id, s);
    return s;
  }

  logout(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  find(id: string | undefined): Session | undefined {
    if (this.open) return this.open;
    if (!id) return undefined;
    const s = this.byId.get(id) ?? this.fromSignedId(id);
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.byId.delete(id);
      return undefined;
    }
    return s;
  }

  /** A session another worker opened: valid when its signature is this server's. */
  private fromSignedId(id: string): Session | undefined {
    if (!this.secret) return undefined;
    const [nonce, role, expires, given] = id.split(".");
    if ((role !== "admin" && role !== "data") || !/^\d+$/.test(expires ?? "") || given === undefined) return undefined;
    const s = signedSession(this.secret, role, Number(expires), nonce);
    const expected = Buffer.from(s.id);
    if (expected.length !== Buffer.byteLength(id) || !timingSafeEqual(expected, Buffer.from(id))) return undefined;
    this.expire();
    while (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value as string);
    this.byId.set(id, s);
    return s;
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (s.expires < now) this.byId.delete(id);
  }
}

function newSession(role: Role, expires: number): Session {
  return { id: randomBytes(32).toString("base64url"), role, csrf: randomBytes(24).toString("base64url"), expires, written: new Set() };
}

/** A session whose id carries its role and expiry, signed with `secret`; its CSRF token is derived from the id. */
function signedSession(secret: Uint8Array, role: Role, expires: number, nonce = randomBytes(24).toString("base64url")): Session {
  const body = `${nonce}.${role}.${Number.isFinite(expires) ? expires : 0}`;
  const id = `${body}.${hmac(secret, `session:${body}`)}`;
  return { id, role, csrf: hmac(secret, `csrf:${id}`), expires, written: new Set() };
}

function hmac(secret: Uint8Array, what: string): string {
  return createHmac("sha256", secret).update(what, "utf8").digest("base64url");
}

/** Behind TLS (directly or via a proxy that says so) the cookie is Secure. */
function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0].trim() === "https";
}

export function setSessionCookie(c: Context, s: Session): void {
  setCookie(c, SESSION_COOKIE, s.id, { path: "/dashboard", httpOnly: true, sameSite: "Strict", secure: isHttps(c), maxAge: Math.floor(SESSION_TTL_MS / 1000) });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/dashboard" });
}

export function sessionId(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Pages: no session, go to the login page (and come back); API calls: 401 JSON. */
export function requireSession(sessions: Sessions): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const s = sessions.find(sessionId(c));
    if (!s) {
      if (c.req.path.startsWith("/dashboard/api/"))
        return c.json({ error: { message: "not logged in to the dashboard (or the session expired): log in again at /dashboard/login", code: "login_required" } }, 401);
      const back = c.req.path + (new URL(c.req.url).search || "");
      return c.redirect(`/dashboard/login?next=${encodeURIComponent(back)}`, 303);
    }
    c.set("session", s);
    return next();
  };
}

/** State-changing calls: JSON bodies and the session's CSRF token in a header. */
export function requireCsrf(): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (c.req.method !== "POST") return next();
    const type = c.req.header("content-type")?.split(";")[0].trim().toLowerCase();
    if (type !== "application/json") return c.json({ error: { message: "dashboard API calls send application/json", code: "unsupported_media_type" } }, 415);
    const given = Buffer.from(c.req.header(CSRF_HEADER) ?? "");
    const expected = Buffer.from(c.get("session").csrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return c.json({ error: { message: `missing or wrong ${CSRF_HEADER} header (reload the page)`, code: "csrf_failed" } }, 403);
    return next();
  };
}

/** Admin actions: with auth on, only a session opened with an admin key. */
export function requireAdmin(what: string): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (c.get("session").role !== "admin")
      return c.json(
        { error: { message: `${what} needs an admin key (TRIAGE_ADMIN_KEYS or auth.adminTokens); you logged in with a data-plane key`, code: "admin_key_required" } },
        403,
      );
    return next();
  };
}
