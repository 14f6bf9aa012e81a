/** post-json.ts against a real loopback server: keep-alive reuse, and a kept-alive socket the server closed while idle. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { postJson } from "../../../src/server/proxy/post-json.js";

let server: http.Server;
let url: URL;
/** Requests answered, and on how many sockets; the second request on any socket is refused by closing it. */
const seen = { answered: 0, sockets: new Set<unknown>(), closed: 0 };

beforeAll(async () => {
  const perSocket = new WeakMap<object, number>();
  server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    seen.sockets.add(req.socket);
    req.resume();
    req.on("end", () => {
      if (n === 2) {
        // What a provider's idle timeout looks like from the client: the reused socket is just gone.
        seen.closed++;
        req.socket.destroy();
        return;
      }
      seen.answered++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ n, body: "ok" }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`);
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("sends again on a fresh connection when a kept-alive socket turns out closed, instead of failing the call", async () => {
  const first = await postJson(url, { "content-type": "application/json" }, "{}", 2000);
  expect(first).toEqual({ status: 200, text: JSON.stringify({ n: 1, body: "ok" }) });
  // The next call takes the kept-alive socket; the server drops it; the call still answers.
  const second = await postJson(url, { "content-type": "application/json" }, "{}", 2000);
  expect(second.status).toBe(200);
  expect(JSON.parse(second.text)).toEqual({ n: 1, body: "ok" });
  expect(seen).toMatchObject({ answered: 2, closed: 1 });
  expect(seen.sockets.size).toBe(2);
});

it("rejects with the socket's error when nothing listens, and stops at once when its signal aborts", async () => {
  const dead = http.createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const port = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  await expect(postJson(new URL(`http://127.0.0.1:${port}/x`), {}, "{}", 2000)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  const aborted = new AbortController();
  aborted.abort();
  await expect(postJson(url, {}, "{}", 2000, aborted.signal)).rejects.toMatchObject({ reason: "aborted" });
});
