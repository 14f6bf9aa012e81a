/**
 * @module
 * The dashboard's context for `triage dashboard`, on a decision log without a running proxy (a SQLite
 * file or a postgres:// URL): the log must exist (it is never created here), feedback is written
 * through the log opened on first use (as `triage feedback` opens it), and the model, when given, is
 * re-read whenever its registry switches, so a promote or rollback shows at once. Prices come from the
 * model's tiers config, with the server config's per-tier overrides.
 */
import { existsSync, statSync } from "node:fs";
import { TriageError } from "../../common/errors.js";
import { priceTable, type PriceTable } from "../../config/price.js";
import { encoderForArtifact } from "../../encoders/resolve.js";
import type { Encoder } from "../../encoders/types.js";
import { resolveModelDir } from "../../model/registry.js";
import { modelStamp } from "../../model/watch.js";
import { isPostgresUrl, openDecisionLog, redactUrl, type DecisionStore } from "../../store/index.js";
import type { ServerConfig } from "../config.js";
import type { DashboardContext, DashboardModel } from "./context.js";
import { readAnyManifest, type AnyManifest } from "./model-kind.js";

export interface StandaloneOptions {
  logDb: string;
  model?: string;
  config: ServerConfig;
  reports?: string;
  onError: (error: Error) => void;
}

export interface StandaloneContext extends DashboardContext {
  /** Closes the feedback log and the encoder, if they were opened. */
  close(): Promise<void>;
}

export function standaloneContext(o: StandaloneOptions): StandaloneContext {
  const pg = isPostgresUrl(o.logDb);
  // A database is checked when the dashboard opens it (PgDashboardReader.open says what is missing).
  if (!pg && !existsSync(o.logDb)) throw new TriageError(`${o.logDb}: no decision log there (triage dashboard reads an existing log; \`triage serve --log-db\` writes one)`);
  if (!pg && statSync(o.logDb).isDirectory()) throw new TriageError(`${o.logDb} is a directory, not a decision log file`);
  if (o.model !== undefined && !existsSync(o.model)) throw new TriageError(`--model ${o.model}: no such directory`);
  let log: Promise<DecisionStore> | undefined;
  const model = o.model !== undefined ? fileModel(o.model) : null;
  return {
    logPath: pg ? redactUrl(o.logDb) : o.logDb,
    // Loaded on demand, as openDecisionLog loads the pg client.
    ...(pg ? { openReader: async () => (await import("../../store/postgres/dashboard-queries.js")).PgDashboardReader.open(o.logDb, o.onError) } : {}),
    feedbackLog: () => {
      log ??= openDecisionLog(o.logDb, { onError: o.onError }).catch((err: unknown) => {
        log = undefined; // tried again at the next label
        throw err;
      });
      return log;
    },
    model,
    prices: () => {
      const prices: PriceTable = model ? priceTable(model.manifest().config.labels) : {};
      for (const [name, t] of Object.entries(o.config.tiers)) {
        if (!t.price) continue;
        prices[name] = t.price;
        if (t.model) prices[t.model] = t.price;
      }
      return prices;
    },
    auth: o.config.auth,
    ...(o.reports ? { reportsDir: o.reports } : {}),
    onError: o.onError,
    close: async () => {
      await (await log?.catch(() => undefined))?.close();
      await model?.close();
    },
  };
}

/** A model directory read from disk: the manifest again whenever the registry's pointer (or the artifact) changed. */
function fileModel(dir: string): DashboardModel & { close(): Promise<void> } {
  let cached: { stamp: string | null; manifest: AnyManifest } | undefined;
  let encoder: { fingerprint: string; encoder: Promise<Encoder> } | undefined;
  const manifest = () => {
    const stamp = modelStamp(dir);
    if (!cached || cached.stamp !== stamp || stamp === null) cached = { stamp, manifest: readAnyManifest(resolveModelDir(dir)) };
    return cached.manifest;
  };
  return {
    dir,
    manifest,
    encoder: async () => {
      const ref = manifest().encoder;
      if (encoder?.fingerprint !== ref.fingerprint) {
        const old = encoder;
        encoder = { fingerprint: ref.fingerprint, encoder: encoderForArtifact(ref) };
        await (await old?.encoder)?.close?.();
      }
      return encoder.encoder;
    },
    close: async () => {
      await (await encoder?.encoder)?.close?.();
    },
  };
}
