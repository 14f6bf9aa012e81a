/** Shared setup for the server tests: one trained tiers model, fake providers, servers on 127.0.0.1. */
import OpenAI from "openai";
import { afterAll, afterEach } from "vitest";
import { Router } from "../../src/router/router.js";
import { createServer, type CreateServerOptions, type TriageServer } from "../../src/server/index.js";
import { tierExamples, useEncoder } from "../helpers/tiers.js";

export interface Running {
  server: TriageServer;
  url: string;
  client: (apiKey?: string) => OpenAI;
  close: () => Promise<void>;
}

/**
 * What the servers reported to their onError (the server log) since the last check. A test that expects
 * some takes them with takeServerErrors(); any left over fail the test (after each test and at the end).
 */
const serverErrors: Error[] = [];

export function takeServerErrors(): Error[] {
  return serverErrors.splice(0);
}

function failOnUnexpected(): void {
  const left = takeServerErrors();
  if (left.length > 0) throw new Error(`unexpected server errors:\n${left.map((e) => `  ${e.name}: ${e.message}`).join("\n")}`);
}
afterEach(failOnUnexpected);
afterAll(failOnUnexpected);

export async function startServer(options: CreateServerOptions): Promise<Running> {
  const server = await createServer({ onError: (e) => void serverErrors.push(e), ...options });
  const { url } = await server.start(0, "127.0.0.1");
  return {
    server,
    url,
    // maxRetries 0: a test sees exactly what the server answered.
    client: (apiKey = "unused") => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 }),
    close: () => server.close(),
  };
}

/** One test query per tier that this model routes to that tier (found by asking the router). */
export async function queriesPerTier(router: Router): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const ex of tierExamples("test", 40)) {
    if (out.has(ex.label)) continue;
    const d = await router.classify(ex.text);
    if (d.label === ex.label && !d.lowConfidence) out.set(ex.label, ex.text);
  }
  return out;
}

export async function loadRouter(dir: string): Promise<Router> {
  return Router.load(dir, { encoder: await useEncoder() });
}

/** POST with a JSON body, as API clients send it. */
export const postJson = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

export const TIER_MODELS: Record<string, string> = { SIMPLE: "gpt-4o-mini", MEDIUM: "gpt-4o", COMPLEX: "claude-3-5-sonnet-latest", FRONTIER: "o1" };
