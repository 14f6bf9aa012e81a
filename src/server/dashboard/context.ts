/**
 * @module
 * What the dashboard needs from whoever mounts it (`triage serve` or `triage dashboard`): the decision
 * log (a SQLite file or a PostgreSQL database, read on a connection of its own) and the log that
 * feedback is written through, the model
 * (a tier or an outcome model: labels, training mix, encoder) and its registry, prices, the keys of both roles, and where
 * `eval-routing` reports live. Nothing in the dashboard reaches further than this.
 */
import type { PriceTable } from "../../config/price.js";
import type { Encoder } from "../../encoders/types.js";
import type { VersionRegistry } from "../../model/registry-api.js";
import type { DashboardLogReader } from "../../store/dashboard-queries.js";
import type { Awaitable, DecisionStore } from "../../store/index.js";
import type { AnyManifest } from "./model-kind.js";

export interface DashboardModel {
  /** The model directory as given: a registry (versions + `current`) or a single artifact. */
  readonly dir: string;
  /** The serving model's manifest: a tier model's (labels, tiers config, calibration, training mix) or an outcome model's (its models, prices, dial). */
  manifest(): AnyManifest;
  /** The serving model's encoder (review's near-duplicates, a decision's nearest examples). */
  encoder(): Promise<Encoder>;
  /** The shared registry the model is a replica of (`serve --registry postgres://…`); promote and rollback go there. */
  readonly registry?: VersionRegistry;
  /** After a promote or rollback: make it take effect now (the server reloads; standalone: nothing to do). */
  afterSwitch?(): Promise<{ ok: boolean; version: string; error?: string }>;
}

export interface DashboardContext {
  /** The decision log's file, or its postgres:// URL without password; null when there is none (pages that need it say so). */
  logPath: string | null;
  /** Opens the log's reads on a connection of their own; without it, `logPath` is opened as a SQLite file. */
  openReader?(): Promise<DashboardLogReader>;
  /** The log feedback is written through, as `triage feedback` does; opened on first use when standalone. */
  feedbackLog(): Awaitable<DecisionStore>;
  model: DashboardModel | null;
  /** Prices by tier and by model name (USD per 1M tokens), for outcome rows without a cost. */
  prices(): PriceTable;
  /** Bearer keys of the data plane and of admins; both empty: auth is off (everyone is admin, as for /admin). */
  auth: { tokens: readonly string[]; adminTokens: readonly string[] };
  /** Folder of `eval-routing --out` reports (their .json files). */
  reportsDir?: string;
  /** Non-fatal problems, for the server log. */
  onError(error: Error): void;
  /** Requests the server is answering now, the dashboard's own included (`triage serve`: its proxy's too). */
  inflight?(): number;
  /** `triage serve`: writes its log's queued rows, so a page read just after an answer counts it. */
  flushLog?(): void;
}

/** Options a caller of createServer or `triage serve` gives the dashboard. */
export interface DashboardOptions {
  /** Folder of `eval-routing --out` reports to list under Routing evaluation. */
  reports?: string;
}
