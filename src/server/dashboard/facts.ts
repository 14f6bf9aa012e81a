/**
 * @module
 * The dashboard's in-memory copy of the decision log, column by column (about 50 bytes a decision):
 * enough to draw every overview chart for any time range and caller tag without touching SQLite again.
 * The first build reads the log newest first, in small chunks that yield to the event loop between them
 * (and, while the server has requests to answer, take at most 5 % of it): pages can answer from the
 * newest rows within a fraction of a second (saying the copy is still partial) while older rows keep
 * arriving, and building it for millions of rows never slows the server's requests. After that, each
 * refresh reads only the new rows and feedback. Costs are priced as rows arrive, with the same rules as
 * `triage stats`. Latency is kept as a bin of a 1 %-wide log scale, so percentiles over a million rows
 * are a histogram walk, not a sort. Reads are awaited (PostgreSQL answers later), so a refresh and a
 * chunk of the build take turns (`exclusive`): each sees the watermarks as the other left them.
 */
import type { EventLoopUtilization } from "node:perf_hooks";
import { callCostUsd, mostExpensive, tokenCostUsd, type PriceTable, type TokenPrice } from "../../config/price.js";
import type { CallFact, DashboardLogReader, DecisionFact } from "../../store/dashboard-queries.js";

export const STAGES = ["rule", "cache", "static", "full"] as const;
export const DECIDED_BY = ["rule", "model", "escalate", "abstain", "fallback", "fallback-failed"] as const;

/** Bit layout of `packed`: label (8 bits), model label (8), stage (3), decided by (3), then flags. */
export const BITS = { stageShift: 16, decidedShift: 19, low: 1 << 22, fallbackUsed: 1 << 23, fallbackAnswered: 1 << 24, escalated: 1 << 25, unpriced: 1 << 26 } as const;

/** Latency bins: bin k >= 1 holds [MIN * STEP^(k-1), MIN * STEP^k) ms; 0 holds <= MIN; NO_LATENCY marks none. */
export const LATENCY_BINS = { min: 0.001, step: 1.01, count: 2100 } as const;
export const NO_LATENCY = 0xffff;
const LOG_STEP = Math.log(LATENCY_BINS.step);

export function latencyBin(ms: number | null): number {
  if (ms === null || !Number.isFinite(ms)) return NO_LATENCY;
  if (ms <= LATENCY_BINS.min) return 0;
  return Math.min(LATENCY_BINS.count - 1, Math.floor(Math.log(ms / LATENCY_BINS.min) / LOG_STEP) + 1);
}

/** A bin's representative latency (its geometric middle): within 0.5 % of every value in it. */
export function binLatency(bin: number): number {
  return bin === 0 ? LATENCY_BINS.min : LATENCY_BINS.min * LATENCY_BINS.step ** (bin - 0.5);
}

/** The columns, each a typed array indexed by row. */
export const COLUMNS = ["ids", "ts", "packed", "latencyBin", "margin", "version", "tagset", "cost", "baseline"] as const;
export type ColumnName = (typeof COLUMNS)[number];
export type Column = Float64Array | Float32Array | Uint32Array | Uint16Array;

/** Everything a copy of the facts needs to resume: watermarks, dictionaries and the live rows. */
export interface FactsState {
  lastId: number;
  lastFeedbackId: number;
  /**
   * Where decisions can commit out of id order: rows not read yet can still commit above this id (the
   * writers that were open, Facts.pullLate). Absent: not known (then the last LATE_WINDOW ids are checked).
   */
  lateFloor?: number;
  pricesKey: string;
  labels: string[];
  versions: string[];
  tagsets: string[];
  columns: Record<ColumnName, Column>;
}

export interface FactsOptions {
  /** Prices for outcome rows without cost_usd; read at each refresh (a changed table re-prices everything). */
  prices: () => PriceTable;
  /** Keep at most this many newest decisions in memory (default 2,000,000). */
  maxRows?: number;
  /** Rows read per event-loop turn (default 2,000: a few ms on an idle machine). */
  chunk?: number;
  /** A problem in the background build (it stops there; the rows read so far stay). */
  onError?: (error: Error) => void;
  /**
   * Whether the server has requests of its own to answer: the build then takes at most 5 % of the time.
   * Without it, event-loop time used by others between chunks says so (which misses work on other threads).
   */
  busy?: () => boolean;
}

/** How far the first build has got: rows read so far, newest first, of about `of`. */
export interface BuildProgress {
  read: number;
  of: number;
}

/** The first build, newest first: decisions with id below `floor` (down to `min`) are still to be read. */
interface Build {
  generation: number;
  floor: number;
  min: number;
  of: number;
  started: number;
  done: Promise<void>;
}

/** Strings seen in a column, numbered in order of appearance. */
export class Interner {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();
  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }
  lookup(value: string): number | undefined {
    return this.ids.get(value);
  }
}

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * When the server has other work (FactsOptions.busy, or requests ran between two chunks for more than
 * BUSY_MS of event-loop time), the build takes at most BUSY_SHARE of the time: it waits
 * (1 / BUSY_SHARE - 1) times as long as its last chunk took. With nothing else to do, the next chunk
 * follows at once.
 */
const BUSY_MS = 1;
const BUSY_SHARE = 0.05;

/**
 * Where decisions can commit out of id order (DashboardLogReader.idsBetween), each refresh checks at
 * least this many ids below the newest read for rows that committed after it, and further down while a
 * writer that was open when they were read is still open (DashboardLogReader.openWriters).
 */
export const LATE_WINDOW = 10_000;

export class Facts {
  /** Rows live at [begin, end) of every column. */
  begin = 0;
  end = 0;
  ids = new Float64Array(0);
  ts = new Float64Array(0);
  packed = new Uint32Array(0);
  latencyBin = new Uint16Array(0);
  margin = new Float32Array(0);
  version = new Uint16Array(0);
  tagset = new Uint32Array(0);
  /** USD of the request's priced calls (NaN: no call known); baseline: its last call's tokens at the top price. */
  cost = new Float64Array(0);
  baseline = new Float64Array(0);
  readonly labels = new Interner();
  readonly versions = new Interner();
  /** Tag sets as logged (JSON); id 0 is "no tags". */
  readonly tagsets = new Interner();
  lastId = 0;
  lastFeedbackId = 0;
  /**
   * Writers seen holding the log open (DashboardLogReader.openWriters), each with the id its rows lie
   * above: the newest id read when the writers were listed before it was first seen.
   */
  private writers = new Map<string, number>();
  /** The newest id read at the last listing of the writers (undefined: never listed, nothing known). */
  private listedAt: number | undefined;
  /** Last refresh (ms since epoch) and its running promise, so concurrent readers share one. */
  refreshedAt = 0;
  private running: Promise<void> | undefined;
  private build: Build | undefined;
  /** The end of the last read that holds the copy (a refresh, or one chunk of the build). */
  private turn: Promise<unknown> = Promise.resolve();
  /** Bumped when the copy starts over (new prices, stop): a build of an older generation ends. */
  private generation = 0;
  /** A build that was stopped or failed before reading every decision: the copy stays partial. */
  private unfinished = false;
  /** Where a failed build stopped (a lost connection, a statement timeout): the next refresh that reads carries on from there. */
  private stalled: { floor: number; of: number } | undefined;
  private pricesKey = "";
  private top: { key: string; price: TokenPrice } | undefined;
  private prices: PriceTable = {};
  private readonly maxRows: number;
  private readonly chunk: number;

  constructor(
    private readonly reader: DashboardLogReader,
    private readonly options: FactsOptions,
  ) {
    this.maxRows = options.maxRows ?? 2_000_000;
    this.chunk = options.chunk ?? 2_000;
    this.tagsets.id("");
  }

  get size(): number {
    return this.end - this.begin;
  }

  /** True when the memory cap left older decisions of the log out of the copy (at most maxRows are kept). */
  get capped(): boolean {
    return this.size >= this.maxRows;
  }

  /** False while the first build is still reading older decisions (or when it was stopped before the end). */
  get complete(): boolean {
    return this.build === undefined && !this.unfinished;
  }

  /** The first build's progress, or null once every decision is read. */
  progress(): BuildProgress | null {
    return this.build ? { read: this.size, of: Math.max(this.size, this.build.of) } : null;
  }

  /** Resolves when the first build is done, or `withinMs` after it started, whichever is first. */
  ready(withinMs: number): Promise<void> {
    const b = this.build;
    if (!b) return Promise.resolve();
    if (!Number.isFinite(withinMs)) return b.done;
    const wait = b.started + withinMs - Date.now();
    if (wait <= 0) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([b.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]).finally(() => clearTimeout(timer));
  }

  /** Ends a running build (before the reader closes); the copy then stays partial. */
  stop(): void {
    if (this.build) this.unfinished = true;
    this.stalled = undefined;
    this.endBuild();
  }

  private endBuild(): void {
    this.generation++;
    this.build = undefined;
  }

  /** A copy of the live rows and what it takes to resume from them (for a snapshot on disk). */
  state(): FactsState {
    const columns = Object.fromEntries(COLUMNS.map((c) => [c, this[c].slice(this.begin, this.end)])) as Record<ColumnName, Column>;
    const lateFloor = this.listedAt === undefined ? undefined : Math.min(this.listedAt, ...this.writers.values());
    return {
      lastId: this.lastId,
      lastFeedbackId: this.lastFeedbackId,
      ...(lateFloor === undefined ? {} : { lateFloor }),
      pricesKey: this.pricesKey,
      labels: [...this.labels.values],
      versions: [...this.versions.values],
      tagsets: [...this.tagsets.values],
      columns,
    };
  }

  /** Resumes from a saved state, unless it was priced with other prices (then false, and nothing changes). */
  restore(state: FactsState): boolean {
    if (state.pricesKey !== JSON.stringify(this.options.prices())) return false;
    const rows = state.columns.ids.length;
    const capacity = Math.max(1024, Math.ceil(rows * 1.25));
    for (const c of COLUMNS) {
      const src = state.columns[c];
      const dst = new (src.constructor as new (n: number) => Column)(capacity);
      dst.set(src);
      (this as unknown as Record<ColumnName, Column>)[c] = dst;
    }
    for (const [interner, values] of [
      [this.labels, state.labels],
      [this.versions, state.versions],
      [this.tagsets, state.tagsets],
    ] as const)
      for (const v of values) interner.id(v);
    this.begin = 0;
    this.end = rows;
    this.lastId = state.lastId;
    this.lastFeedbackId = state.lastFeedbackId;
    // Writers open when it was saved may have committed since: the next check reaches down to their floor.
    this.writers.clear();
    this.listedAt = state.lateFloor;
    if (state.lateFloor !== undefined) this.writers.set("saved", state.lateFloor);
    this.pricesKey = state.pricesKey;
    this.checkPrices();
    return true;
  }

  /**
   * Brings the copy up to date with the log from its newest row on (the first call starts the build of
   * the older rows: `ready` waits for it); at most one refresh runs at a time, and `maxAgeMs` skips a fresh one.
   */
  refresh(maxAgeMs = 0): Promise<void> {
    if (this.running) return this.running;
    if (Date.now() - this.refreshedAt < maxAgeMs) return Promise.resolve();
    this.running = this.exclusive(() => this.pull()).finally(() => {
      this.running = undefined;
      this.refreshedAt = Date.now();
    });
    return this.running;
  }

  /** Runs `read` after the running one ends: a refresh and a build chunk never interleave their awaits. */
  private exclusive<T>(read: () => Promise<T>): Promise<T> {
    const run = this.turn.then(read, read);
    this.turn = run.catch(() => {});
    return run;
  }

  private async pull(): Promise<void> {
    this.checkPrices();
    if (this.lastId === 0 && this.size === 0 && !this.build) await this.startBuild();
    const { min } = await this.reader.idRange();
    this.dropBelow(min ?? this.lastId + 1);
    for (;;) {
      const rows = await this.reader.decisionFacts(this.lastId, this.chunk);
      for (const r of rows) this.append(r);
      if (rows.length < this.chunk) break;
      await yieldTurn();
    }
    const lateFloor = await this.pullLate();
    // The log answers again: a build that failed part-way carries on below what it read.
    if (this.stalled && !this.build) this.resumeBuild(this.stalled);
    for (;;) {
      const calls = await this.reader.callFacts(this.lastFeedbackId, this.chunk);
      for (const c of calls) {
        // A decision committed after the rows above were read: its feedback waits for the next refresh.
        if (c[1] > this.lastId || (c[1] > lateFloor && this.indexOf(c[1]) < 0)) return;
        this.applyCall(c);
        this.lastFeedbackId = c[0];
      }
      if (calls.length < this.chunk) break;
      await yieldTurn();
    }
  }

  /**
   * Finds the decisions of the recent id window that committed after later ones were read, and puts them
   * in place; returns the window's floor (Infinity where the log commits in id order). Only the count is
   * read unless some are missing.
   */
  private async pullLate(): Promise<number> {
    const r = this.reader;
    if (!r.countBetween || !r.idsBetween || !r.decisionFactsOf) return Number.POSITIVE_INFINITY;
    // Below a running (or stalled) build's floor nothing is read yet; below the oldest row of a capped copy nothing is kept.
    const covered = this.build ? this.build.floor : this.stalled ? this.stalled.floor : this.capped ? this.ids[this.begin] : 0;
    const open = r.openWriters ? await r.openWriters() : undefined;
    const floor = Math.max(Math.min(this.lastId - LATE_WINDOW, this.writersFloor(open)), covered - 1);
    if (floor < this.lastId) {
      const held = this.end - this.upperBound(floor);
      if ((await r.countBetween(floor, this.lastId)) !== held) {
        const missing = (await r.idsBetween(floor, this.lastId)).filter((id) => this.indexOf(id) < 0);
        if (missing.length > 0) for (const row of await r.decisionFactsOf(missing)) this.insert(row);
      }
    }
    // A writer gone from the list has committed (or rolled back) before the check above: its rows are in.
    if (open) for (const w of [...this.writers.keys()]) if (!open.includes(w)) this.writers.delete(w);
    return floor;
  }

  /**
   * The lowest id a row not read yet can have. A writer not open at the last listing took its ids after
   * it, so above the newest id read then: whether it is listed now or closed between this refresh's reads
   * and this listing. One open at the first listing could hold any id.
   */
  private writersFloor(open: readonly string[] | undefined): number {
    if (!open) return Number.POSITIVE_INFINITY;
    let floor = this.listedAt ?? 0;
    for (const w of open) if (!this.writers.has(w)) this.writers.set(w, floor);
    for (const f of this.writers.values()) floor = Math.min(floor, f);
    this.listedAt = this.lastId;
    return floor;
  }

  /**
   * Starts the first build: everything up to the log's newest decision is read newest first in the
   * background, and the usual refresh takes over from that decision on. Feedback up to the current newest
   * feedback row is read per chunk of decisions; later feedback comes through the refresh (skipped for a
   * decision not read yet, then read with its chunk, which takes every feedback row the refresh passed).
   */
  private async startBuild(): Promise<void> {
    const upTo = await this.reader.maxFeedbackId(); // before the decisions: no feedback of a read decision is missed
    const { min, max } = await this.reader.idRange();
    if (min === null || max === null) return;
    const of = Math.min(this.maxRows, max - min + 1);
    // Room below for every row to come, and some above for new decisions.
    this.relayout(of, of + Math.max(1024, Math.ceil(of / 4)));
    this.lastId = max;
    this.lastFeedbackId = upTo;
    this.unfinished = false;
    const generation = ++this.generation;
    const build: Build = { generation, floor: max + 1, min, of, started: Date.now(), done: Promise.resolve() };
    this.build = build;
    // The first chunk is read now (inside the refresh), so even the first answer has the newest decisions.
    let more: boolean;
    try {
      more = await this.step(build);
    } catch (err) {
      this.fail(build, err as Error);
      return;
    }
    if (more) build.done = this.backfill(build);
    else if (this.generation === generation) this.build = undefined;
  }

  private async backfill(b: Build): Promise<void> {
    try {
      let chunkMs = 0;
      let after: EventLoopUtilization | undefined;
      for (;;) {
        // Others' event-loop time since the last chunk: the requests the build must not slow down.
        const busy = this.options.busy ? this.options.busy() : performance.eventLoopUtilization(after).active > BUSY_MS;
        if (busy) await sleep(Math.min(1000, chunkMs * (1 / BUSY_SHARE - 1)));
        else await yieldTurn();
        if (this.generation !== b.generation) return;
        const started = performance.now();
        if (!(await this.exclusive(() => this.step(b)))) break;
        chunkMs = performance.now() - started;
        after = performance.eventLoopUtilization();
      }
    } catch (err) {
      this.fail(b, err as Error);
      return;
    }
    if (this.generation === b.generation) this.build = undefined;
  }

  /** A failed build stops where it is: the rows read so far stay, the copy says it is partial, and the next refresh resumes it. */
  private fail(b: Build, err: Error): void {
    if (this.generation !== b.generation) return;
    this.unfinished = true;
    this.build = undefined;
    this.stalled = { floor: b.floor, of: b.of };
    this.options.onError?.(err);
  }

  private resumeBuild(from: { floor: number; of: number }): void {
    this.stalled = undefined;
    this.unfinished = false;
    const build: Build = { generation: ++this.generation, floor: from.floor, min: from.floor, of: from.of, started: Date.now(), done: Promise.resolve() };
    this.build = build;
    build.done = this.backfill(build);
  }

  /**
   * Reads one chunk of the build below its floor (with the refresh's turn held): false when there is
   * nothing left to read, or the build was ended meanwhile.
   */
  private async step(b: Build): Promise<boolean> {
    const { min } = await this.reader.idRange(); // retention may have deleted the oldest rows meanwhile
    if (this.generation !== b.generation || min === null || b.floor <= min || this.size >= this.maxRows) return false;
    b.min = min;
    const lo = Math.max(min, b.floor - this.chunk);
    const rows = await this.reader.decisionFactsBetween(lo, b.floor);
    const calls = await this.reader.callFactsBetween(lo, b.floor, this.lastFeedbackId);
    if (this.generation !== b.generation) return false;
    this.prepend(rows.length > this.maxRows - this.size ? rows.slice(rows.length - (this.maxRows - this.size)) : rows);
    for (const c of calls) this.applyCall(c);
    b.floor = lo;
    return true;
  }

  /** A new price table re-prices every row: start again from an empty copy. */
  private checkPrices(): void {
    const prices = this.options.prices();
    const key = JSON.stringify(prices);
    if (key === this.pricesKey && this.top !== undefined) return;
    const changed = key !== this.pricesKey;
    this.pricesKey = key;
    this.prices = prices;
    this.top = mostExpensive(Object.entries(prices));
    if (!changed) return;
    this.endBuild();
    this.stalled = undefined;
    this.begin = this.end = 0;
    this.lastId = this.lastFeedbackId = 0;
    this.writers.clear();
    this.listedAt = undefined;
  }

  /** Retention deleted the oldest decisions: forget them too. */
  private dropBelow(minId: number): void {
    while (this.begin < this.end && this.ids[this.begin] < minId) this.begin++;
  }

  private append(r: DecisionFact): void {
    if (this.end === this.ids.length) this.makeRoom();
    this.write(this.end++, r);
    this.lastId = r[0];
    if (this.end - this.begin > this.maxRows) {
      this.begin++;
      // The newest maxRows are in: older ones would not be kept.
      if (this.build) this.endBuild();
    }
  }

  /** A row that committed after later ones were read, put in its place by id. */
  private insert(r: DecisionFact): void {
    if (this.end === this.ids.length) this.makeRoom();
    const at = this.upperBound(r[0]);
    if (at > this.begin && this.ids[at - 1] === r[0]) return; // already here
    for (const c of COLUMNS) this[c].copyWithin(at + 1, at, this.end);
    this.end++;
    this.write(at, r);
    if (this.end - this.begin > this.maxRows) this.begin++;
  }

  /** First row index with id > `id`, within [begin, end). */
  private upperBound(id: number): number {
    let lo = this.begin;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid] <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Rows older than every live row (a build's chunk, oldest first), placed below them. */
  private prepend(rows: DecisionFact[]): void {
    if (rows.length === 0) return;
    if (this.begin < rows.length) this.relayout(rows.length + this.toCome(), rows.length + this.toCome() + Math.max(1024, this.size * 2));
    let i = this.begin - rows.length;
    this.begin = i;
    for (const r of rows) this.write(i++, r);
  }

  /** Rows a running build may still add below the live ones. */
  private toCome(): number {
    return this.build ? Math.max(0, Math.min(this.maxRows - this.size, this.build.floor - this.build.min)) : 0;
  }

  private write(i: number, r: DecisionFact): void {
    const [id, ts, label, modelLabel, stage, decidedBy, low, fallbackUsed, fallbackAnswered, latency, margin, version, tags] = r;
    const stageIndex = (STAGES as readonly string[]).indexOf(stage);
    const decidedIndex = (DECIDED_BY as readonly string[]).indexOf(decidedBy);
    this.ids[i] = id;
    this.ts[i] = ts;
    this.packed[i] =
      (Math.min(255, this.labels.id(label)) |
        (Math.min(255, this.labels.id(modelLabel)) << 8) |
        ((stageIndex < 0 ? 7 : stageIndex) << BITS.stageShift) |
        ((decidedIndex < 0 ? 7 : decidedIndex) << BITS.decidedShift) |
        (low ? BITS.low : 0) |
        (fallbackUsed ? BITS.fallbackUsed : 0) |
        (fallbackAnswered ? BITS.fallbackAnswered : 0)) >>>
      0;
    this.latencyBin[i] = latencyBin(latency);
    this.margin[i] = margin ?? Number.NaN;
    this.version[i] = Math.min(65535, this.versions.id(version));
    this.tagset[i] = tags === null ? 0 : this.tagsets.id(tags);
    this.cost[i] = Number.NaN;
    this.baseline[i] = Number.NaN;
  }

  /** One call (or escalation) recorded for a decision: its cost, its baseline, its flags. */
  private applyCall([, decisionId, kind, label, finalModel, tokensIn, tokensOut, costUsd]: CallFact): void {
    const i = this.indexOf(decisionId);
    if (i < 0) return;
    if (kind === "escalated") this.packed[i] |= BITS.escalated;
    const hasTokens = tokensIn !== null || tokensOut !== null;
    if (costUsd === null && !hasTokens) return;
    const price = (finalModel !== null ? this.prices[finalModel] : undefined) ?? this.prices[label];
    const cost = callCostUsd({ costUsd: costUsd ?? undefined, tokensIn: tokensIn ?? undefined, tokensOut: tokensOut ?? undefined }, price);
    if (cost === undefined) this.packed[i] |= BITS.unpriced;
    else this.cost[i] = (Number.isNaN(this.cost[i]) ? 0 : this.cost[i]) + cost;
    // As `triage stats`: the baseline sends the request once to the top tier, with its last call's tokens.
    if (hasTokens && this.top) this.baseline[i] = tokenCostUsd(this.top.price, tokensIn ?? 0, tokensOut ?? 0);
  }

  /** Row index of a decision id (binary search: ids only grow), or -1. */
  indexOf(id: number): number {
    let lo = this.begin;
    let hi = this.end - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First row index with ts >= t, within [begin, end) (ts follows id order, as log() stamps it). */
  lowerBound(t: number): number {
    let lo = this.begin;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Full at the end: moves live rows down into free room, or doubles every column (keeping room for a build's rows). */
  private makeRoom(): void {
    const live = this.size;
    const front = this.toCome();
    if (!this.build && this.begin > live) this.relayout(0, this.ids.length);
    else this.relayout(front, front + Math.max(1024, live * 2));
  }

  /** Puts the live rows at index `front` of columns of `capacity` rows (the same columns when the size stays). */
  private relayout(front: number, capacity: number): void {
    const { begin, end } = this;
    const move = <T extends Column>(a: T, make: (n: number) => T): T => {
      if (capacity === a.length) return a.copyWithin(front, begin, end) as T;
      const next = make(capacity);
      next.set(a.subarray(begin, end), front);
      return next;
    };
    this.ids = move(this.ids, (n) => new Float64Array(n));
    this.ts = move(this.ts, (n) => new Float64Array(n));
    this.packed = move(this.packed, (n) => new Uint32Array(n));
    this.latencyBin = move(this.latencyBin, (n) => new Uint16Array(n));
    this.margin = move(this.margin, (n) => new Float32Array(n));
    this.version = move(this.version, (n) => new Uint16Array(n));
    this.tagset = move(this.tagset, (n) => new Uint32Array(n));
    this.cost = move(this.cost, (n) => new Float64Array(n));
    this.baseline = move(this.baseline, (n) => new Float64Array(n));
    this.begin = front;
    this.end = front + (end - begin);
  }
}
