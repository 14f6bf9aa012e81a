/**
 * @module Test egress: a small HTTP forward proxy on 127.0.0.1 that counts what goes through it
 * (absolute-URI requests for http:// targets, CONNECT tunnels for https:// ones), and a TLS front that
 * serves a plain-HTTP fake provider as https:// (self-signed certificate for 127.0.0.1, test only).
 */
import http from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import tls from "node:tls";

export interface ForwardProxy {
  /** e.g. "http://127.0.0.1:40123" */
  readonly url: string;
  /** The absolute URIs of the requests it forwarded. */
  readonly forwarded: string[];
  /** The host:port of each CONNECT tunnel it opened. */
  readonly tunnels: string[];
  /** The Proxy-Authorization header of each request or CONNECT ("" when none). */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/** Request headers that concern the hop to the proxy, not the target. */
const HOP = new Set(["proxy-authorization", "proxy-connection", "connection", "keep-alive"]);

/** `refuse`: the status every request and CONNECT gets instead of being passed on (403: a barred destination, 407: no credentials). */
export async function startForwardProxy(options: { refuse?: number } = {}): Promise<ForwardProxy> {
  const forwarded: string[] = [];
  const tunnels: string[] = [];
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers["proxy-authorization"] ?? "");
    if (!/^https?:\/\//.test(req.url ?? "")) return void res.writeHead(400).end("a forward proxy takes absolute URIs");
    if (options.refuse) return void res.writeHead(options.refuse).end();
    forwarded.push(req.url as string);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP.has(k)));
    // The target sees which requests came this way.
    const up = http.request(req.url as string, { method: req.method, headers: { ...headers, "x-test-proxy": "forwarded" }, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  server.on("connect", (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    authorizations.push(req.headers["proxy-authorization"] ?? "");
    if (options.refuse) return void client.end(`HTTP/1.1 ${options.refuse} Refused\r\ncontent-length: 0\r\n\r\n`);
    tunnels.push(req.url ?? "");
    const [host, port] = [(req.url ?? "").replace(/:\d+$/, ""), Number((req.url ?? "").split(":").pop())];
    const up = net.connect(port, host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on("error", () => client.destroy());
    client.on("error", () => up.destroy());
  });
  // Tunnelled sockets leave the HTTP server's books: close() ends them itself.
  const open = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    open.add(s);
    s.on("close", () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    tunnels,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TlsFront {
  /** https://127.0.0.1:PORT/v1 */
  readonly baseURL: string;
  /** TLS connections accepted. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** https:// in front of a plain-HTTP server on 127.0.0.1 `port`: each TLS connection is piped to it. */
export async function startTlsFront(port: number): Promise<TlsFront> {
  let connections = 0;
  const open = new Set<Socket>();
  const server = tls.createServer({ key: KEY, cert: CERT }, (socket) => {
    connections++;
    open.add(socket);
    const up = net.connect(port, "127.0.0.1");
    socket.pipe(up).pipe(socket);
    const end = () => {
      open.delete(socket);
      socket.destroy();
      up.destroy();
    };
    socket.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseURL: `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// Self-signed for 127.0.0.1 and localhost, valid until 2126; a test fixture, trusted by no one.
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg17M9c8Wa3l4x4qOY
c1u3dcgMXlWT6eY50wYdh7ruGf2hRANCAAT+cs1llFOlR1aS8xbK5vr7fpppOZpR
NZtrLu2hq17V4SXOlZTOJ8PmF4vUTzKjjFDGRwZBYgdSB4Ayf07ZqrrI
-----END PRIVATE KEY-----
`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUMDlsaSuwwjl4EyyX/3PBCl14ZvMwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEzMDEzMDI0M1oYDzIxMjYxMTA2
MTMwMjQzWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT+cs1llFOlR1aS8xbK5vr7fpppOZpRNZtrLu2hq17V4SXOlZTOJ8Pm
F4vUTzKjjFDGRwZBYgdSB4Ayf07ZqrrIo28wbTAdBgNVHQ4EFgQUscvxSuU+iG+U
X78DRHjLulvVs6gwHwYDVR0jBBgwFoAUscvxSuU+iG+UX78DRHjLulvVs6gwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIgO+KolmOk9szX4Y+obxXOeJ/YJRzgeFKPLhmXh+lUIUYCIQDx
bW/QrGRlzT59UK08lldt/9Xenv0/5ijj1+pt2Bk8cQ==
-----END CERTIFICATE-----
`;
