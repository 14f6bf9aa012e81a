// Dashboard sessions signed with a secret shared by the workers of one server: any worker accepts a
// session another opened, and nothing else passes.
import { randomBytes } from "node:crypto";
import { expect, it, vi } from "vitest";
import { Sessions } from "../../../src/server/dashboard/session.js";

const auth = { tokens: ["data-key-123456"], adminTokens: ["admin-key-123456"] };

it("a session opened on one worker is found, with the same role and CSRF token, on another with the same secret", () => {
  const secret = randomBytes(32);
  const a = new Sessions(auth, secret);
  const b = new Sessions(auth, secret);
  for (const key of ["data-key-123456", "admin-key-123456"]) {
    const opened = a.login(key)!;
    const found = b.find(opened.id);
    expect(found).toMatchObject({ id: opened.id, role: opened.role, csrf: opened.csrf, expires: opened.expires });
  }
});

it("a different secret, a changed role or expiry, or no secret at all: not a session", () => {
  const secret = randomBytes(32);
  const opened = new Sessions(auth, secret).login("data-key-123456")!;
  expect(new Sessions(auth, randomBytes(32)).find(opened.id)).toBeUndefined();
  expect(new Sessions(auth).find(opened.id)).toBeUndefined();
  const [nonce, , expires, sig] = opened.id.split(".");
  const b = new Sessions(auth, secret);
  expect(b.find([nonce, "admin", expires, sig].join("."))).toBeUndefined();
  expect(b.find([nonce, "data", String(Number(expires) + 1), sig].join("."))).toBeUndefined();
  expect(b.find("not-a-session")).toBeUndefined();
});

it("an expired signed session is not accepted", () => {
  const secret = randomBytes(32);
  const opened = new Sessions(auth, secret).login("data-key-123456")!;
  vi.useFakeTimers({ now: Date.now() + 13 * 3_600_000, toFake: ["Date"] }); // past the 12-hour lifetime
  try {
    expect(new Sessions(auth, secret).find(opened.id)).toBeUndefined();
  } finally {
    vi.useRealTimers();
  }
});

it("with auth off, workers sharing a secret hand out the same CSRF token", () => {
  const secret = randomBytes(32);
  const off = { tokens: [], adminTokens: [] };
  expect(new Sessions(off, secret).find(undefined)?.csrf).toBe(new Sessions(off, secret).find(undefined)?.csrf);
  expect(new Sessions(off).find(undefined)?.csrf).not.toBe(new Sessions(off).find(undefined)?.csrf);
});
