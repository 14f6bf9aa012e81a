/**
 * @module
 * Promote and roll back from the dashboard (admin only): the registry's own atomic pointer switch, as
 * `triage rollback` makes it, then an immediate reload of the serving model when there is one.
 */
import { z } from "zod";
import { TriageError } from "../../common/errors.js";
import { formatZodError } from "../../config/load.js";
import type { VersionRegistry } from "../../model/registry-api.js";
import { isRegistry, ModelRegistry } from "../../model/registry.js";
import type { DashboardContext } from "./context.js";
import type { VersionCatalog } from "./versions.js";

const promoteBody = z.object({ version: z.string().min(1).max(64) }).strict();
const rollbackBody = z.object({ to: z.string().min(1).max(64).optional() }).strict();

export interface SwitchResult {
  from: string | null;
  to: string;
  /** What the serving model did (absent when standalone). */
  reload?: { ok: boolean; version: string; error?: string };
}

export async function switchVersion(ctx: DashboardContext, catalog: VersionCatalog, action: "promote" | "rollback", body: unknown): Promise<SwitchResult> {
  if (ctx.model?.registry) return switchShared(ctx.model.registry, ctx, catalog, action, body);
  if (!ctx.model || !isRegistry(ctx.model.dir))
    throw new TriageError(`${action}: the model is a single artifact, not a registry (train with --registry to get versions)`, "E_BAD_REQUEST");
  const registry = new ModelRegistry(ctx.model.dir);
  const from = registry.current();
  let to: string;
  if (action === "promote") {
    const r = promoteBody.safeParse(body);
    if (!r.success) throw new TriageError(`promote: ${formatZodError(r.error)}`, "E_BAD_REQUEST");
    if (!registry.versionNames().includes(r.data.version)) throw new TriageError(`promote: no version "${r.data.version.slice(0, 64)}" in the registry`, "E_BAD_REQUEST");
    await registry.promote(r.data.version);
    to = r.data.version;
  } else {
    const r = rollbackBody.safeParse(body ?? {});
    if (!r.success) throw new TriageError(`rollback: ${formatZodError(r.error)}`, "E_BAD_REQUEST");
    to = (await registry.rollback(r.data.to)).to;
  }
  catalog.forget();
  const reload = await ctx.model.afterSwitch?.();
  return { from, to, ...(reload ? { reload } : {}) };
}

/** The same against a shared registry: one transaction there, then this replica catches up. */
async function switchShared(registry: VersionRegistry, ctx: DashboardContext, catalog: VersionCatalog, action: "promote" | "rollback", body: unknown): Promise<SwitchResult> {
  const from = (await registry.pointer())?.version ?? null;
  let to: string;
  if (action === "promote") {
    const r = promoteBody.safeParse(body);
    if (!r.success) throw new TriageError(`promote: ${formatZodError(r.error)}`, "E_BAD_REQUEST");
    if (!(await registry.list()).some((v) => v.version === r.data.version))
      throw new TriageError(`promote: no version "${r.data.version.slice(0, 64)}" in the registry`, "E_BAD_REQUEST");
    to = (await registry.promote(r.data.version)).version;
  } else {
    const r = rollbackBody.safeParse(body ?? {});
    if (!r.success) throw new TriageError(`rollback: ${formatZodError(r.error)}`, "E_BAD_REQUEST");
    to = (await registry.rollback(r.data.to)).to;
  }
  catalog.forget();
  const reload = await ctx.model?.afterSwitch?.();
  return { from, to, ...(reload ? { reload } : {}) };
}
