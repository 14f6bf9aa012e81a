/** Shared setup for the server tests: one trained tiers model, fake providers, servers on 127.0.0.1. */
import OpenAI from "openai";
import { Router } from "../../src/router/router.js";
import { createServer, type CreateServerOptions, type TriageServer } from "../../src/server/index.js";
import { tierExamples, useEncoder } from "../helpers/tiers.js";

export interface Running {
  server: TriageServer;
  url: string;
  client: (apiKey?: string) => OpenAI;
  close: () => Promise<void>;
}

export async function startServer(options: CreateServerOptions): Promise<Running> {
  const server = await createServer({ onError: () => {}, ...options });
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

export const TIER_MODELS: Record<string, string> = { SIMPLE: "gpt-4o-mini", MEDIUM: "gpt-4o", COMPLEX: "claude-3-5-sonnet-latest", FRONTIER: "o1" };
