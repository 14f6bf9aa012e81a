/** A dashboard visitor over plain HTTP: logs in through the login form and keeps the session cookie. */
export interface Visitor {
  get(path: string): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** The CSRF token of the logged-in session (read from a page, as the page script does). */
  csrf: string;
}

export async function login(base: string, key: string): Promise<Visitor> {
  const res = await fetch(`${base}/dashboard/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ key, next: "/dashboard" }).toString(),
  });
  if (res.status !== 303) throw new Error(`login with ${key.slice(0, 4)}… answered ${res.status}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  const get = (path: string) => fetch(`${base}${path}`, { headers: { cookie }, redirect: "manual" });
  const page = await (await get("/dashboard")).text();
  const csrf = /<meta name="triage-csrf" content="([^"]+)">/.exec(page)?.[1] ?? "";
  return {
    csrf,
    get,
    post: (path, body, headers = {}) =>
      fetch(`${base}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/json", "x-triage-csrf": csrf, ...headers },
        body: JSON.stringify(body),
      }),
  };
}
