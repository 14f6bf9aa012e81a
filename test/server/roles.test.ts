/**
 * Roles: data-plane keys (TRIAGE_API_KEYS) call the API and read /metrics; only admin keys
 * (TRIAGE_ADMIN_KEYS) reach /admin/* and /v1/stats. Checked on a real `triage serve` process.
 */
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { Router } from "../../src/router/router.js";
import { loadServerConfig } from "../../src/server/index.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { type ListeningProcess, startListening } from "../helpers/listening.js";
import { trainTiers } from "../helpers/tiers.js";
import { loadRouter, postJson, startServer, type Running } from "./setup.js";

const DATA = "data-key-0123456789";
const ADMIN = "admin-key-9876543210";

let modelDir: string;
let router: Router;
let fake: FakeOpenAI;
const running: Running[] = [];

beforeAll(async () => {
  modelDir = (await trainTiers(20)).dir;
  router = await loadRouter(modelDir);
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await fake?.close();
  await router?.close();
});

/** `triage serve` on a free loopback port; resolves once it prints its address. */
const serveProcess = (env: Record<string, string>): Promise<ListeningProcess> =>
  startListening(["serve", "--model", modelDir, "--port", "0", "--host", "127.0.0.1"], { TRIAGE_PROVIDER_BASE_URL: fake.baseURL, ...env });

const get = (url: string, key?: string) => fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
const reload = (url: string, key?: string) => postJson(`${url}/admin/reload`, "{}", key ? { authorization: `Bearer ${key}` } : {});

describe("roles", () => {
  it("triage serve: a data-plane key gets 403 on /admin/reload and /v1/stats, an admin key is let in; both may call the API and read /metrics", async () => {
    const { url, child, stderr } = await serveProcess({ TRIAGE_API_KEYS: DATA, TRIAGE_ADMIN_KEYS: ADMIN });
    try {
      const denied = await reload(url, DATA);
      expect(denied.status).toBe(403);
      expect(((await denied.json()) as { error: { type: string; code: string; message: string } }).error).toMatchObject({
        type: "permission_error",
        code: "admin_key_required",
        message: expect.stringMatching(/needs an admin key/),
      });
      expect((await get(`${url}/v1/stats`, DATA)).status).toBe(403);
      expect((await reload(url)).status).toBe(401);
      expect((await reload(url, "not-a-key-at-all")).status).toBe(401);

      const allowed = await reload(url, ADMIN);
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toMatchObject({ ok: true });
      expect((await get(`${url}/v1/stats`, ADMIN)).status).toBe(200);
      for (const key of [DATA, ADMIN]) {
        expect((await get(`${url}/metrics`, key)).status).toBe(200);
        const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
        expect((await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] })).choices[0].message.content).toBe("ok");
      }
      expect((await get(`${url}/metrics`)).status).toBe(401);
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    expect(stderr()).not.toMatch(/Error|warning/i);
  });

  it("with data-plane keys only, /admin/* and /v1/stats are closed to every key; with no keys at all, everything is open", async () => {
    const dataOnly = await startServer({ model: router, config: { providers: [], auth: { tokens: [DATA] }, reload: { watch: false, intervalMs: 1000 } } });
    const open = await startServer({ model: router, config: { providers: [], reload: { watch: false, intervalMs: 1000 } } });
    running.push(dataOnly, open);
    expect((await reload(dataOnly.url, DATA)).status).toBe(403);
    expect((await get(`${dataOnly.url}/v1/stats`, DATA)).status).toBe(403);
    expect((await get(`${dataOnly.url}/metrics`, DATA)).status).toBe(200);
    expect((await postJson(`${dataOnly.url}/v1/route`, '{"text":"hi"}', { authorization: `Bearer ${DATA}` })).status).toBe(200);
    expect((await reload(open.url)).status).toBe(200);
    expect((await get(`${open.url}/v1/stats`)).status).toBe(200);
  });

  it("keys come from TRIAGE_API_KEYS / TRIAGE_ADMIN_KEYS; a key that could never be sent is refused by name, without showing it", () => {
    const config = loadServerConfig(undefined, { TRIAGE_API_KEYS: `${DATA}, other-data-key-1`, TRIAGE_ADMIN_KEYS: ADMIN });
    expect(config.auth).toEqual({ tokens: [DATA, "other-data-key-1"], adminTokens: [ADMIN] });
    expect(() => loadServerConfig(undefined, { TRIAGE_ADMIN_KEYS: `${ADMIN},bad key with spaces` })).toThrow(
      /^environment variable TRIAGE_ADMIN_KEYS: key 2 of 2 \(19 characters\): a bearer token may use only/,
    );
    expect(() => loadServerConfig(undefined, { TRIAGE_ADMIN_KEYS: "short" })).toThrow(
      /^environment variable TRIAGE_ADMIN_KEYS: key 1 of 1 \(5 characters\): a key needs at least 8 characters/,
    );
    try {
      loadServerConfig(undefined, { TRIAGE_API_KEYS: "bad key with spaces" });
    } catch (err) {
      expect((err as Error).message).not.toContain("bad key");
    }
  });
});
