/**
 * @module The egress proxy of upstream calls, read from the environment as curl and npm read it:
 * HTTPS_PROXY for https:// upstreams, HTTP_PROXY for http:// ones (the lowercase names win), except for
 * the hosts NO_PROXY lists. Decided once per upstream URL object (forward.ts builds one per provider);
 * the node:http agents (post-json.ts) and the fetch (streams) that go through a proxy are made once per
 * proxy and kept. Without the variables every route is "direct" and the callers do what they did before.
 */
import type http from "node:http";
import { BlockList, isIP } from "node:net";
import { HttpProxyAgent } from "http-proxy-agent";
import { HttpsProxyAgent } from "https-proxy-agent";
import { TriageError } from "../../common/errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

/** The fetch signature forward.ts uses; undici's own fetch behind a proxy, the global one otherwise. */
export type UpstreamFetch = (url: URL, init: RequestInit) => Promise<Response>;

/** How to reach one upstream URL. Every field is undefined for a direct connection. */
export interface Egress {
  readonly proxy?: URL;
  /** Keep-alive agent through the proxy. */
  readonly agent?: http.Agent;
  /** A fresh connection through the proxy (post-json.ts's retry after a stale socket). */
  readonly freshAgent?: http.Agent;
  readonly fetch?: UpstreamFetch;
}

const DIRECT: Egress = Object.freeze({});
const routes = new WeakMap<URL, Egress>();
const viaProxy = new Map<string, Egress>();

/** The egress of `target`, decided on its first call from the environment then, and kept for that URL object. */
export function egressOf(target: URL): Egress {
  let route = routes.get(target);
  if (!route) {
    route = decide(target);
    routes.set(target, route);
  }
  return route;
}

function decide(target: URL): Egress {
  const proxy = proxyFor(target);
  if (!proxy) return DIRECT;
  const secure = target.protocol === "https:";
  const key = `${secure ? "https" : "http"} ${proxy.href}`;
  let route = viaProxy.get(key);
  if (!route) {
    // https upstreams: a CONNECT tunnel through the proxy; http ones: absolute-URI requests to it (as curl does).
    const agent = (keepAlive: boolean) => (secure ? new HttpsProxyAgent(proxy, { keepAlive }) : new HttpProxyAgent(proxy, { keepAlive }));
    route = { proxy, agent: agent(true), freshAgent: agent(false), fetch: proxiedFetch(proxy) };
    viaProxy.set(key, route);
  }
  return route;
}

/**
 * Streams go through undici's own fetch with its ProxyAgent: a dispatcher from the undici package passed
 * to Node's built-in fetch (another undici version) is not guaranteed to work. Loaded on first use only.
 */
function proxiedFetch(proxy: URL): UpstreamFetch {
  let loaded: Promise<{ fetch: UpstreamFetch }> | undefined;
  const load = async () => {
    const undici = await import("undici");
    // proxyTunnel false: http:// upstreams are forwarded like node:http's path does, not tunnelled.
    const dispatcher = new undici.ProxyAgent({ uri: proxy.href, proxyTunnel: false });
    // A 407 from the proxy undici already fails as an error, not as the provider's answer.
    const fetch: UpstreamFetch = (url, init) => undici.fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
    return { fetch };
  };
  return async (url, init) => (await (loaded ??= load())).fetch(url, init);
}

/** A 407 comes from the proxy itself (its credentials missing or refused): no answer of the provider's. */
export function proxyAuthRequired(): Error {
  return Object.assign(new Error("the egress proxy answered 407 (proxy authentication required)"), { code: "ERR_PROXY_AUTH" });
}

/**
 * The proxy for `target` under `env`, or undefined to connect directly. Throws a TriageError naming the
 * variable when its value is not an http:// or https:// proxy URL.
 */
export function proxyFor(target: URL, env: Env = process.env): URL | undefined {
  if (target.protocol !== "https:" && target.protocol !== "http:") return undefined;
  const found = variable(env, target.protocol === "https:" ? "https_proxy" : "http_proxy");
  if (!found) return undefined;
  if (noProxyMatches(target, variable(env, "no_proxy")?.value ?? "")) return undefined;
  return parseProxy(found.name, found.value);
}

/** The lowercase variable, else the uppercase one; empty counts as unset. */
function variable(env: Env, lower: string): { name: string; value: string } | undefined {
  for (const name of [lower, lower.toUpperCase()]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function parseProxy(name: string, value: string): URL {
  let url: URL | undefined;
  try {
    // "proxy.corp:3128" without a scheme means http://, as in curl.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "")
    throw new TriageError(`${name}: "${value.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1@")}" is not a proxy URL (http://host:port or https://host:port)`, "E_CONFIG");
  return url;
}

/**
 * Whether NO_PROXY exempts `target`: a comma- or space-separated list where `*` matches every host;
 * `example.com`, `.example.com` and `*.example.com` match example.com and its subdomains; an IP address
 * matches itself and `10.0.0.0/8` a range; `host:port` only that port. Case-insensitive.
 */
export function noProxyMatches(target: URL, noProxy: string): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  const port = Number(target.port) || (target.protocol === "https:" ? 443 : 80);
  const hostIsIp = isIP(host);
  for (const raw of noProxy.toLowerCase().split(/[\s,]+/)) {
    if (raw === "") continue;
    if (raw === "*") return true;
    const entry = splitPort(raw);
    if (entry.port !== undefined && entry.port !== port) continue;
    if (hostIsIp) {
      if (ipMatches(host, entry.name)) return true;
      continue;
    }
    const domain = entry.name.replace(/^\*?\./, "");
    if (domain !== "" && (host === domain || host.endsWith(`.${domain}`))) return true;
  }
  return false;
}

/** "[::1]:8080", "::1", "host:443", "host", "10.0.0.0/8" into a name and an optional port. */
function splitPort(entry: string): { name: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort ? { name: withPort[1], port: Number(withPort[2]) } : { name: entry };
}

/** An IP host against an entry: the same address, or inside a CIDR range. Never a suffix match. */
function ipMatches(host: string, name: string): boolean {
  const slash = name.indexOf("/");
  if (slash < 0) return name === host;
  const base = name.slice(0, slash);
  const bits = Number(name.slice(slash + 1));
  const family = isIP(base);
  if (family === 0 || family !== isIP(host) || !Number.isInteger(bits)) return false;
  const type = family === 4 ? "ipv4" : "ipv6";
  if (bits < 0 || bits > (family === 4 ? 32 : 128)) return false;
  const range = new BlockList();
  range.addSubnet(base, bits, type);
  return range.check(host, type);
}

/** The proxy URL for logs: scheme, user and host, never the password. */
export function redactedProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.username ? `${proxy.username}@` : ""}${proxy.host}`;
}

/**
 * One line for the server's start-up: which providers' calls go through which proxy (password removed),
 * or undefined when none does. Throws the TriageError of a malformed proxy variable.
 */
export function egressSummary(providers: readonly { name: string; baseURL: string }[], env: Env = process.env): string | undefined {
  const byProxy = new Map<string, string[]>();
  const direct: string[] = [];
  for (const p of providers) {
    let target: URL;
    try {
      target = new URL(p.baseURL);
    } catch {
      continue; // the config check names a bad baseURL
    }
    const proxy = proxyFor(target, env);
    if (!proxy) direct.push(p.name);
    else byProxy.set(redactedProxy(proxy), [...(byProxy.get(redactedProxy(proxy)) ?? []), p.name]);
  }
  if (byProxy.size === 0) return undefined;
  const via = [...byProxy].map(([proxy, names]) => `through the proxy ${proxy} (${names.join(", ")})`).join("; ");
  return `upstream calls go ${via}${direct.length > 0 ? `; directly: ${direct.join(", ")}` : ""}`;
}
