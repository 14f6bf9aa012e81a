/** egress.ts's decision: which proxy variable applies to an upstream URL, NO_PROXY as curl and npm read it, the start-up line. */
import { describe, expect, it } from "vitest";
import { egressSummary, noProxyMatches, proxyFor } from "../../../src/server/proxy/egress.js";

const proxied = (url: string, env: Record<string, string>) => proxyFor(new URL(url), env)?.href;

describe("proxyFor", () => {
  it("takes HTTPS_PROXY for https:// and HTTP_PROXY for http:// upstreams, the lowercase name first", () => {
    const env = { HTTPS_PROXY: "http://upper:3128", https_proxy: "http://lower:3128", HTTP_PROXY: "http://plain:8080" };
    expect(proxied("https://api.openai.com/v1", env)).toBe("http://lower:3128/");
    expect(proxied("http://vllm.internal:8000/v1", env)).toBe("http://plain:8080/");
    expect(proxied("https://api.openai.com/v1", { HTTP_PROXY: "http://plain:8080" })).toBeUndefined();
    expect(proxied("https://api.openai.com/v1", { HTTPS_PROXY: "", https_proxy: "" })).toBeUndefined();
    // No scheme: http://, as in curl.
    expect(proxied("https://api.openai.com/v1", { HTTPS_PROXY: "proxy.corp:3128" })).toBe("http://proxy.corp:3128/");
  });

  it("names the variable whose value is not a proxy URL, without its password", () => {
    expect(() => proxied("https://api.openai.com/v1", { HTTPS_PROXY: "socks5://ops:s3cret@proxy:1080" })).toThrow(
      'HTTPS_PROXY: "socks5://ops@proxy:1080" is not a proxy URL (http://host:port or https://host:port)',
    );
    expect(() => proxied("http://x/v1", { http_proxy: "http://" })).toThrow(/^http_proxy: "http:\/\/" is not a proxy URL/);
  });
});

describe("NO_PROXY", () => {
  const skips = (url: string, noProxy: string) => noProxyMatches(new URL(url), noProxy);

  it("matches a domain and its subdomains, with or without a leading dot or *., never a mere suffix", () => {
    for (const entry of ["example.com", ".example.com", "*.example.com", "EXAMPLE.com"]) {
      expect(skips("https://api.example.com/v1", entry)).toBe(true);
      expect(skips("https://example.com/v1", entry)).toBe(true);
      expect(skips("https://notexample.com/v1", entry)).toBe(false);
    }
    expect(skips("https://api.openai.com/v1", "localhost, 127.0.0.1 ,.internal")).toBe(false);
    expect(skips("https://anything.at.all/v1", "*")).toBe(true);
    expect(skips("https://api.openai.com/v1", "")).toBe(false);
  });

  it("matches host:port on that port only (the scheme's default when the URL has none)", () => {
    expect(skips("http://127.0.0.1:8000/v1", "127.0.0.1:8000")).toBe(true);
    expect(skips("http://127.0.0.1:8001/v1", "127.0.0.1:8000")).toBe(false);
    expect(skips("https://api.example.com/v1", "example.com:443")).toBe(true);
    expect(skips("http://api.example.com/v1", "example.com:443")).toBe(false);
  });

  it("matches IP addresses exactly or by CIDR range, IPv6 too", () => {
    expect(skips("http://127.0.0.1:8000/v1", "127.0.0.1")).toBe(true);
    expect(skips("http://10.1.2.3/v1", "0.1.2.3")).toBe(false);
    expect(skips("http://10.1.2.3/v1", "10.0.0.0/8")).toBe(true);
    expect(skips("http://11.1.2.3/v1", "10.0.0.0/8")).toBe(false);
    expect(skips("http://[::1]:8000/v1", "::1")).toBe(true);
    expect(skips("http://[::1]:8000/v1", "[::1]:8000")).toBe(true);
    expect(skips("http://[fd00::5]/v1", "fd00::/8")).toBe(true);
  });
});

describe("egressSummary", () => {
  const providers = [
    { name: "openai", baseURL: "https://api.openai.com/v1" },
    { name: "local", baseURL: "http://127.0.0.1:8000/v1" },
  ];

  it("names the proxy without its password, and the providers that connect directly", () => {
    expect(egressSummary(providers, { HTTPS_PROXY: "http://ops:s3cret@proxy.corp:3128", HTTP_PROXY: "http://ops:s3cret@proxy.corp:3128", NO_PROXY: "127.0.0.1" })).toBe(
      "upstream calls go through the proxy http://ops@proxy.corp:3128 (openai); directly: local",
    );
  });

  it("says nothing when no provider's calls take a proxy", () => {
    expect(egressSummary(providers, {})).toBeUndefined();
    expect(egressSummary(providers, { HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: "*" })).toBeUndefined();
  });
});
