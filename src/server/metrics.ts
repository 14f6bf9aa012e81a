/** Prometheus metrics on a registry of their own, so several servers in one process (tests) do not collide. */
import { Counter, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: "triage_http_requests_total", help: "HTTP requests by route and status", labelNames: ["route", "status"], registers: [this.registry] });
  readonly requestSeconds = new Histogram({
    name: "triage_http_request_duration_seconds",
    help: "Time to response headers by route",
    labelNames: ["route"],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: "triage_decisions_total",
    help: "Routing decisions by label and deciding stage",
    labelNames: ["label", "decided_by"],
    registers: [this.registry],
  });
  readonly decisionSeconds = new Histogram({
    name: "triage_decision_duration_seconds",
    help: "Local routing decision latency",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: "triage_classifier_fallback_total",
    help: "Decisions where the LLM classifier was asked, by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly escalations = new Counter({
    name: "triage_escalations_total",
    help: "Quality-gate escalations by from/to tier and gate",
    labelNames: ["from", "to", "gate"],
    registers: [this.registry],
  });
  readonly failovers = new Counter({
    name: "triage_provider_failovers_total",
    help: "Failed upstream attempts that moved on, by provider and outcome",
    labelNames: ["provider", "outcome"],
    registers: [this.registry],
  });
  readonly upstreamSeconds = new Histogram({
    name: "triage_upstream_duration_seconds",
    help: "Upstream call latency by tier and provider (streams: to first byte)",
    labelNames: ["tier", "provider"],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly costUsd = new Counter({ name: "triage_cost_usd_total", help: "Spend in USD by tier and model", labelNames: ["tier", "model"], registers: [this.registry] });
  readonly reloads = new Counter({ name: "triage_model_reloads_total", help: "Model reloads by result", labelNames: ["result"], registers: [this.registry] });
}
