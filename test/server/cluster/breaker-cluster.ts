/**
 * @module The circuit-breaker cluster tests' fixture: `triage serve --workers 2` on a small trained model,
 * every tier trying the given fake providers in order (each with the same failure threshold and its own
 * cooldown, and a retry budget that never stops a failover), chat requests that say which worker
 * answered, and a bounded poll until both workers' /healthz say the same of a provider. With `fallback`, the
 * model's low-confidence policy is `fallback` and its LLM classifier is set by TRIAGE_FALLBACK_* variables.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Agent } from "node:http";
import { join } from "node:path";
import { expect, vi } from "vitest";
import { trainIntoRegistry } from "../../../src/retrain/publish.js";
import type { FakeOpenAI, FakeReply } from "../../helpers/fake-openai.js";
import { startListening } from "../../helpers/listening.js";
import { tempDir, tierExamples, TIERS_CONFIG, useEncoder } from "../../helpers/tiers.js";
import { requestWorker, type WorkerReply } from "../../helpers/worker-request.js";

/** A fake provider's handler for a provider that is down: every call answers 500. */
export const providerDown = (): FakeReply => ({ type: "error", status: 500, message: "provider is down" });

export interface ClusterProvider {
  name: string;
  fake: FakeOpenAI;
  cooldownMs: number;
}

export interface BreakerCluster {
  port: number;
  /** A chat request (answered 200): on a fresh connection (the workers take turns), or on `agent`'s one kept-alive connection (one worker). */
  chat(agent?: Agent | false): Promise<WorkerReply>;
  /** Polls /healthz on fresh connections until both workers last reported `provider` as one of `health`. */
  bothWorkersSay(provider: string, ...health: string[]): Promise<void>;
  /** The same for the fallback classifier's endpoint. */
  bothWorkersSayOfFallback(...health: string[]): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** TRIAGE_FALLBACK_* variables for every worker: the model then asks that classifier below its margin. */
  fallback?: Record<string, string>;
  /** The server config's `retry` (default: a budget that never stops a failover, one call per provider). */
  retry?: { maxAttempts: number; budgetRatio: number; budgetBurst: number };
}

export async function startBreakerCluster(failureThreshold: number, providers: readonly ClusterProvider[], options: ClusterOptions = {}): Promise<BreakerCluster> {
  const work = tempDir("triage-breaker-cluster-");
  const registryDir = join(work, "models");
  let tiers = TIERS_CONFIG;
  if (options.fallback) {
    tiers = join(work, "tiers.yaml");
    writeFileSync(tiers, readFileSync(TIERS_CONFIG, "utf8").replace(/lowConfidence: \w+/, "lowConfidence: fallback"));
  }
  await trainIntoRegistry(registryDir, { data: tierExamples("train", 8), config: tiers, encoder: await useEncoder(), folds: 3 });
  const configPath = join(work, "serve.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      providers: providers.map((p) => ({ name: p.name, baseURL: p.fake.baseURL, apiKey: "sk-fake", breaker: { failureThreshold, cooldownMs: p.cooldownMs } })),
      retry: options.retry ?? { maxAttempts: providers.length, budgetRatio: 2, budgetBurst: 1000 },
    }),
  );
  const server = await startListening(["serve", "--model", registryDir, "--port", "0", "--host", "127.0.0.1", "--config", configPath, "--workers", "2"], {
    TRIAGE_API_KEYS: "",
    TRIAGE_ADMIN_KEYS: "",
    ...options.fallback,
  });
  const { port } = server;
  let asked = 0;
  return {
    port,
    async chat(agent: Agent | false = false) {
      const body = { model: "auto", messages: [{ role: "user", content: `question ${asked++}: what is the capital of France?` }] };
      const r = await requestWorker({ port, method: "POST", path: "/v1/chat/completions", body, agent });
      expect(r.status, r.body).toBe(200);
      return r;
    },
    bothWorkersSay: (provider: string, ...health: string[]) => bothSay(port, provider, (h) => h.providers[provider], health),
    bothWorkersSayOfFallback: (...health: string[]) => bothSay(port, "the fallback classifier", (h) => h.fallback, health),
    async stop() {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

type Health = { providers: Record<string, string>; fallback?: string };

/** Polls /healthz on fresh connections until both workers last reported `what` (read by `read`) as one of `health`. */
async function bothSay(port: number, what: string, read: (h: Health) => string | undefined, health: readonly string[]): Promise<void> {
  const seen = new Map<string, string | undefined>();
  await vi.waitFor(
    async () => {
      const h = await requestWorker({ port, method: "GET", path: "/healthz" });
      if (h.worker) seen.set(h.worker, read(JSON.parse(h.body) as Health));
      expect([...seen.keys()].sort()).toEqual(["1", "2"]);
      for (const [worker, said] of seen) expect(health, `worker ${worker} says ${what} is ${said}`).toContain(said);
    },
    { timeout: 20_000, interval: 50 },
  );
}
