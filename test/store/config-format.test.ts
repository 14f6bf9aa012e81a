import { describe, expect, it } from "vitest";
import { decisionLogConfigSchema, formatStats, logOpenOptions, parseDurationMs, parseTimeBound, retentionToPrune, withLogFlags, type LogStats } from "../../src/store/index.js";

describe("decision log config and helpers", () => {
  it("parses a log section with retention", () => {
    const c = decisionLogConfigSchema.parse({ path: "logs/d.db", retention: { olderThan: "90d", maxRows: 1000 } });
    expect(c).toMatchObject({ textMode: "store", durability: "batched", sync: "normal", maxTextChars: 4000, batchSize: 256 });
    expect(retentionToPrune(c.retention)).toEqual({ olderThanMs: 90 * 86_400_000, maxRows: 1000 });
    expect(retentionToPrune(undefined)).toBeUndefined();
    const bad = decisionLogConfigSchema.safeParse({ path: "x", retention: { olderThan: "3 months" } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(["retention", "olderThan"]);
  });

  it("names durability (batched | strict) apart from sync (normal | full); old configs keep working", () => {
    expect(decisionLogConfigSchema.parse({ durability: "strict", sync: "full" })).toMatchObject({ durability: "strict", sync: "full" });
    // `durability: full` used to mean an fsync per commit: it still does, and stays batched.
    expect(decisionLogConfigSchema.parse({ durability: "full" })).toMatchObject({ durability: "batched", sync: "full" });
    expect(decisionLogConfigSchema.parse({ durability: "normal" })).toMatchObject({ durability: "batched", sync: "normal" });
    const conflict = decisionLogConfigSchema.safeParse({ durability: "full", sync: "normal" });
    expect(conflict.error?.issues[0].path).toEqual(["sync"]);
    expect(decisionLogConfigSchema.safeParse({ durabilty: "strict" }).success).toBe(false); // a typo is not ignored
    const c = decisionLogConfigSchema.parse({ path: "d.db", durability: "strict", maxTextChars: 100, retention: { maxRows: 5 } });
    expect(logOpenOptions(c)).toEqual({ textMode: "store", maxTextChars: 100, durability: "strict", sync: "normal", batchSize: 256, flushIntervalMs: 50 });
    expect(c.retention).toEqual({ maxRows: 5, every: "1m" });
  });

  it("applies serve's log flags over the config section, naming a bad flag", () => {
    expect(withLogFlags(undefined, {})).toBeUndefined();
    const base = decisionLogConfigSchema.parse({ textMode: "hash", retention: { olderThan: "30d", every: "10s" } });
    expect(withLogFlags(base, { path: "d.db", durability: "strict", maxRows: 1000 })).toMatchObject({
      textMode: "hash",
      durability: "strict",
      retention: { olderThan: "30d", maxRows: 1000, every: "10s" },
    });
    expect(withLogFlags(undefined, { path: "d.db", olderThan: "7d" })).toMatchObject({ durability: "batched", retention: { olderThan: "7d", every: "1m" } });
    expect(withLogFlags({ ...base, path: "from-config.db" }, { maxRows: 9 })).toMatchObject({ path: "from-config.db", retention: { maxRows: 9 } });
    expect(() => withLogFlags(base, { path: "d.db", durability: "full" })).toThrow('--log-durability: expected batched or strict, got "full"');
    expect(() => withLogFlags(base, { path: "d.db", olderThan: "a while" })).toThrow(/--log-older-than: expected a duration/);
    expect(() => withLogFlags(base, { maxRows: 5, olderThan: "7d" })).toThrow(
      "--log-max-rows, --log-older-than: no decision log to apply to (give --log-db FILE or log.path in the config)",
    );
  });

  it("parses durations and time bounds", () => {
    expect(parseDurationMs("24h")).toBe(86_400_000);
    expect(parseDurationMs("500ms")).toBe(500);
    expect(() => parseDurationMs("soon", "--older-than")).toThrow(/--older-than: expected a duration/);
    expect(parseTimeBound("2h", "--since", 10_000_000)).toBe(10_000_000 - 7_200_000);
    expect(parseTimeBound("2026-01-02T00:00:00Z")).toBe(Date.UTC(2026, 0, 2));
    expect(parseTimeBound("1700000000000")).toBe(1_700_000_000_000);
    expect(() => parseTimeBound("yesterday-ish", "--since")).toThrow(/--since/);
  });

  it("formats stats as a readable table", () => {
    const stats: LogStats = {
      count: 10,
      labels: {
        cheap: { count: 8, share: 0.8, latencyMs: { p50: 2, p95: 3.5 } },
        strong: { count: 2, share: 0.2, latencyMs: { p50: 4, p95: 9 } },
      },
      latencyMs: { p50: 2, p95: 9 },
      lowConfidenceRate: 0.1,
      fallbackRate: 0.1,
      fallbackAgreement: 1,
      fallbackFailures: 0,
      escalationRate: 0,
      feedback: { label: 1, thumbs: 0, escalated: 0, outcome: 2, score: 0 },
      cost: {
        requests: 2,
        totalUsd: 0.01,
        unpricedCalls: 0,
        baseline: { label: "strong", requests: 2, actualUsd: 0.01, baselineUsd: 0.04, savingsUsd: 0.03, savingsRate: 0.75 },
      },
    };
    const text = formatStats(stats);
    expect(text).toContain("decisions: 10");
    expect(text).toMatch(/^cheap\s+8\s+80\.0%\s+2\.00\s+3\.50$/m);
    expect(text).toContain("vs always strong: $0.0400 -> actual $0.0100, saved $0.0300 (75.0%) on 2 requests");
  });
});
