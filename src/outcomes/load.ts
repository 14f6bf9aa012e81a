import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readCsvRows } from "../common/csv.js";
import { TriageError } from "../common/errors.js";
import { readTextFile } from "../common/text-file.js";
import { parseJsonl } from "../common/jsonl.js";
import type { OutcomePrompt, OutcomeSet } from "./set.js";
import { lastQuestion, parsePythonStringList } from "./prompt.js";

/**
 * wide: one row per prompt, one score column per model (RouterBench, RouteLLM CSVs; JSONL rows
 *       `{prompt, scores: {model: score}, costs?: {model: usd}}` or flat like the CSV).
 * long: one row per (prompt, model): `prompt, model, score[, cost][, id]`.
 */
export type OutcomeFormat = "wide" | "long";

export interface OutcomeLoadOptions {
  /** Detected from the columns when not given. `routerbench` and `routellm` are accepted as aliases of `wide`. */
  format?: OutcomeFormat | "routerbench" | "routellm";
  /** Route on the last question of few-shot prompts (default true). */
  lastQuestionOnly?: boolean;
}

interface RawRow {
  line: number;
  record: Record<string, unknown>;
}

const PROMPT_FIELDS = ["prompt", "text", "query"];
const ID_FIELDS = ["sample_id", "id", "prompt_id"];
/** Wide-CSV columns that are neither the prompt, an id, nor a model score. */
const META_COLUMNS = new Set(["", "eval_name", "oracle_model_to_route_to", "category", "subject"]);
const COST_SUFFIX = "|total_cost";

/** Loads one file, or every .csv/.jsonl file of a folder (sorted by name; all must list the same models). */
export function loadOutcomes(path: string, options: OutcomeLoadOptions = {}): OutcomeSet {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new TriageError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!isDir) return loadOutcomeFile(path, options);
  const files = readdirSync(path)
    .filter((f) => /\.(csv|jsonl)$/i.test(f))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new TriageError(`${path}: folder holds no .csv or .jsonl file`);
  const sets = files.map((f) => loadOutcomeFile(f, options));
  const models = sets[0].models;
  sets.forEach((s, i) => {
    if (s.models.join("\n") !== models.join("\n")) throw new TriageError(`${files[i]}: models (${s.models.join(", ")}) differ from ${files[0]} (${models.join(", ")})`);
  });
  const costSource = sets.every((s) => s.costSource === "data") ? "data" : "none";
  return { models, prompts: sets.flatMap((s) => s.prompts), costSource, notes: [...new Set(sets.flatMap((s) => s.notes))] };
}

export function loadOutcomeFile(path: string, options: OutcomeLoadOptions = {}): OutcomeSet {
  const content = readTextFile(path);
  const rows = path.toLowerCase().endsWith(".csv") ? readCsvRows(path, content) : readJsonlRows(path, content);
  if (rows.length === 0) throw new TriageError(`${path}: no rows`);
  const format = normaliseFormat(options.format) ?? detectFormat(rows);
  const lastOnly = options.lastQuestionOnly ?? true;
  return format === "long" ? fromLong(path, rows, lastOnly) : fromWide(path, rows, lastOnly);
}

function normaliseFormat(f: OutcomeLoadOptions["format"]): OutcomeFormat | undefined {
  if (f === undefined) return undefined;
  return f === "long" ? "long" : "wide";
}

function detectFormat(rows: readonly RawRow[]): OutcomeFormat {
  const r = rows[0].record;
  return "model" in r && "score" in r ? "long" : "wide";
}

function readJsonlRows(path: string, content: string): RawRow[] {
  return parseJsonl(content).map((l) => {
    if (l.problem) throw new TriageError(`${path}:${l.line}: ${l.problem.kind === "json" ? l.problem.message : "a row must be a JSON object"}`, "E_DATA");
    return { line: l.line, record: l.value };
  });
}

function pick(record: Record<string, unknown>, names: readonly string[]): string | undefined {
  return names.find((n) => n in record);
}

function promptText(record: Record<string, unknown>, where: string, lastOnly: boolean): string {
  const field = pick(record, PROMPT_FIELDS);
  if (!field) throw new TriageError(`${where}: missing field "prompt" (or "text")`, "E_DATA");
  const raw = record[field];
  if (typeof raw !== "string" || raw.trim() === "") throw new TriageError(`${where}: field "${field}" must be a non-empty string`, "E_DATA");
  const text = parsePythonStringList(raw)?.join("\n") ?? raw;
  return lastOnly ? lastQuestion(text) : text;
}

/** True/False (RouteLLM), 0/1/0.0/1.0 (RouterBench) or a graded number; blank means unknown (NaN). */
export function parseScore(value: unknown, where: string, field: string): number {
  if (value === undefined || value === null || value === "") return NaN;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const t = value.trim().toLowerCase();
    if (t === "") return NaN;
    if (t === "true") return 1;
    if (t === "false") return 0;
    const n = Number(t);
    if (Number.isFinite(n)) return n;
  }
  throw new TriageError(`${where}: field "${field}": score ${JSON.stringify(value)} is not a number, true or false`, "E_DATA");
}

function parseCost(value: unknown, where: string, field: string): number {
  if (value === undefined || value === null || value === "") return NaN;
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new TriageError(`${where}: field "${field}": cost ${JSON.stringify(value)} is not a non-negative number`, "E_DATA");
  return n;
}

function isModelColumn(c: string): boolean {
  if (META_COLUMNS.has(c) || PROMPT_FIELDS.includes(c) || ID_FIELDS.includes(c)) return false;
  if (c.includes("|")) return false; // "<model>|total_cost", "<model>|model_response"
  if (c.endsWith("_response")) return false; // RouteLLM's answer texts
  return c !== "scores" && c !== "costs";
}

function fromWide(path: string, rows: readonly RawRow[], lastOnly: boolean): OutcomeSet {
  const first = rows[0].record;
  const nested = typeof first.scores === "object" && first.scores !== null;
  const models = nested ? Object.keys(first.scores as object) : Object.keys(first).filter(isModelColumn);
  if (models.length < 2) throw new TriageError(`${path}:${rows[0].line}: need at least two model score columns, found ${models.length} (${models.join(", ")})`, "E_DATA");
  let anyCost = false;
  const prompts = rows.map(({ line, record }): OutcomePrompt => {
    const where = `${path}:${line}`;
    const scoreSrc = nested ? record.scores : record;
    if (typeof scoreSrc !== "object" || scoreSrc === null) throw new TriageError(`${where}: field "scores" must be an object`, "E_DATA");
    const costSrc = nested ? record.costs : undefined;
    if (nested && costSrc !== undefined && (typeof costSrc !== "object" || costSrc === null)) throw new TriageError(`${where}: field "costs" must be an object`, "E_DATA");
    const scores = new Float64Array(models.length);
    const costs = new Float64Array(models.length);
    models.forEach((m, k) => {
      const s = scoreSrc as Record<string, unknown>;
      if (nested && !(m in s)) throw new TriageError(`${where}: field "scores.${m}" is missing (every row must list the same models)`, "E_DATA");
      scores[k] = parseScore(s[m], where, nested ? `scores.${m}` : m);
      const c = nested ? (costSrc as Record<string, unknown> | undefined)?.[m] : record[`${m}${COST_SUFFIX}`];
      costs[k] = parseCost(c, where, nested ? `costs.${m}` : `${m}${COST_SUFFIX}`);
      if (!Number.isNaN(costs[k])) anyCost = true;
    });
    const idField = pick(record, ID_FIELDS);
    const id = idField ? String(record[idField]) : where;
    return { id, text: promptText(record, where, lastOnly), scores, costs, where };
  });
  return { models, prompts, costSource: anyCost ? "data" : "none", notes: [] };
}

function fromLong(path: string, rows: readonly RawRow[], lastOnly: boolean): OutcomeSet {
  const models: string[] = [];
  const modelIndex = new Map<string, number>();
  interface Pending {
    id: string;
    text: string;
    where: string;
    scores: Map<number, number>;
    costs: Map<number, number>;
  }
  const byKey = new Map<string, Pending>();
  let anyCost = false;
  for (const { line, record } of rows) {
    const where = `${path}:${line}`;
    const model = record.model;
    if (typeof model !== "string" || model.trim() === "") throw new TriageError(`${where}: field "model" must be a non-empty string`, "E_DATA");
    if (!("score" in record)) throw new TriageError(`${where}: missing field "score"`, "E_DATA");
    const text = promptText(record, where, lastOnly);
    const idField = pick(record, ID_FIELDS);
    const key = idField ? `id:${String(record[idField])}` : `text:${text}`;
    let m = modelIndex.get(model);
    if (m === undefined) {
      m = models.length;
      models.push(model);
      modelIndex.set(model, m);
    }
    let p = byKey.get(key);
    if (!p) {
      p = { id: idField ? String(record[idField]) : where, text, where, scores: new Map(), costs: new Map() };
      byKey.set(key, p);
    }
    if (p.scores.has(m)) throw new TriageError(`${where}: model "${model}" already has a score for this prompt (first at ${p.where})`, "E_DATA");
    p.scores.set(m, parseScore(record.score, where, "score"));
    const cost = parseCost(record.cost, where, "cost");
    if (!Number.isNaN(cost)) anyCost = true;
    p.costs.set(m, cost);
  }
  if (models.length < 2) throw new TriageError(`${path}: need outcomes for at least two models, found ${models.join(", ")}`, "E_DATA");
  const prompts = [...byKey.values()].map((p): OutcomePrompt => {
    const scores = new Float64Array(models.length).fill(NaN);
    const costs = new Float64Array(models.length).fill(NaN);
    for (const [m, s] of p.scores) scores[m] = s;
    for (const [m, c] of p.costs) costs[m] = c;
    return { id: p.id, text: p.text, scores, costs, where: p.where };
  });
  return { models, prompts, costSource: anyCost ? "data" : "none", notes: [] };
}
