/**
 * @module
 * `triage eval-routing --out` reports as pages: the JSON files of a reports folder (`--reports DIR`), or
 * one opened in the browser. Each is checked against the shape the page reads, so a wrong file is a
 * one-line error naming the file and the field, not a broken page.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { TriageError } from "../../common/errors.js";
import { formatZodError } from "../../config/load.js";
import type { RoutingReport } from "../../outcomes/evaluate.js";

const rate = z.number().nullable();
const point = z.object({ dial: z.number().nullable(), quality: z.number(), cost: z.number(), strongFraction: z.number().nullable() }).passthrough();
const curve = z.object({ apgr: z.number(), cpt50: rate, cpt80: rate, aiq: z.number(), saving95: rate, saving98: rate, points: z.array(point) }).passthrough();
const qc = z.object({ quality: z.number(), cost: z.number() }).passthrough();
const reportShape = z
  .object({
    report: z
      .object({
        models: z.array(z.string()).min(1),
        weak: z.string(),
        strong: z.string(),
        trainPrompts: z.number(),
        testPrompts: z.number(),
        notes: z.array(z.string()),
        anchors: z.object({ weakQuality: z.number(), weakCost: z.number(), strongQuality: z.number(), strongCost: z.number() }),
        router: curve.extend({
          method: z.string(),
          atTarget: z.object({ quality: z.number(), cost: z.number(), strongFraction: z.number() }).passthrough(),
        }),
        baselines: z.object({ random: curve, rules: curve, zero: curve, cheapest: qc, strongest: qc, oracle: qc, single: z.record(z.string(), qc) }).passthrough(),
        // Reports written before eval-routing drew bootstrap intervals have none.
        uncertainty: z
          .object({ resamples: z.number(), router: z.object({ low: rate, high: rate }) })
          .passthrough()
          .optional(),
      })
      .passthrough(),
  })
  .passthrough();

export interface StoredReport {
  name: string;
  report: RoutingReport;
}

/** Parses a report file's JSON; `where` names it in the error. */
export function parseReport(raw: unknown, name: string, where: string): StoredReport {
  const r = reportShape.safeParse(raw);
  if (!r.success) throw new TriageError(`${where}: not a triage eval-routing report: ${formatZodError(r.error)}`, "E_BAD_REQUEST");
  // Checked above for every field the page reads; the rest passes through as written.
  return { name, report: r.data.report as unknown as RoutingReport };
}

const NAME = /^[\w.-]{1,128}$/;

/** The report files of a folder: names (file name without .json), newest first. */
export function listReports(dir: string): Array<{ name: string; mtime: number }> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new TriageError(`--reports ${dir}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such folder" : (err as Error).message}`);
  }
  return entries
    .filter((f) => f.endsWith(".json") && NAME.test(f.slice(0, -5)))
    .map((f) => ({ name: f.slice(0, -5), mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
}

export function readReport(dir: string, name: string): StoredReport {
  if (!NAME.test(name)) throw new TriageError(`report name "${name.slice(0, 80)}" is not a file name`, "E_BAD_REQUEST");
  const path = join(dir, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TriageError(
      code === "ENOENT" ? `no report called ${name} in ${dir}` : `${path}: ${(err as Error).message}`,
      code === "ENOENT" ? "E_UNKNOWN_REQUEST" : "E_BAD_REQUEST",
    );
  }
  return parseReport(raw, basename(path, ".json"), path);
}
