/**
 * @module GET /v1/models in OpenAI's shape, so clients that list models before calling work: the routed
 * model names (`models.auto`, default "auto") and the route groups, each with the routes it chooses
 * among and the model each route maps to. Any other name is passed through when `models.passthrough`
 * is on; the answer says so, since a list cannot name every upstream model.
 */
import type { ChatProxy } from "../proxy/proxy.js";
import type { ServerConfig } from "../config.js";

export interface ListedModel {
  id: string;
  object: "model";
  /** Unix seconds: when the serving model artifact was trained. */
  created: number;
  owned_by: "triage";
  /** triage's own field: what the name routes among. */
  triage: { kind: "auto" | "group"; routes: { name: string; model: string | null }[] };
}

export interface ModelList {
  object: "list";
  data: ListedModel[];
  passthrough: { enabled: boolean; note: string };
}

export function modelList(proxy: ChatProxy, config: ServerConfig): ModelList {
  const tiers = proxy.tiers();
  const labels = proxy.router.labels;
  const created = Math.floor(Date.parse(proxy.router.manifest.createdAt) / 1000) || 0;
  const entry = (id: string, kind: "auto" | "group", routes: readonly string[]): ListedModel => ({
    id,
    object: "model",
    created,
    owned_by: "triage",
    triage: { kind, routes: routes.map((name) => ({ name, model: tiers.get(name)?.model ?? null })) },
  });
  const groups = Object.entries(config.models.groups)
    .map(([id, routes]) => [id, routes.filter((r) => labels.includes(r))] as const)
    .filter(([, routes]) => routes.length > 0); // a group naming no tier of this model would answer 500
  return {
    object: "list",
    data: [...config.models.auto.map((id) => entry(id, "auto", labels)), ...groups.map(([id, routes]) => entry(id, "group", routes))],
    passthrough: config.models.passthrough
      ? { enabled: true, note: "any other model name is forwarded unchanged to the providers, without routing or quality gates" }
      : { enabled: false, note: "only the model names listed here are served; any other answers 404" },
  };
}
