import { describe, expect, it } from "vitest";
import { latencySummary, percentile, quantiles, RecentSamples } from "../../src/common/stats.js";

describe("percentiles", () => {
  it("are nearest-rank over sorted values, by hand", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // ceil(p/100 * 10)-th value: p50 -> 5th, p95 -> 10th, p10 -> 1st, p11 -> 2nd.
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 10), percentile(sorted, 11)]).toEqual([5, 10, 1, 2]);
    expect(percentile([], 50)).toBeNaN();
  });

  it("sort a copy and key the result p50, p95, p99", () => {
    const values = [9, 1, 5, 3, 7];
    expect(quantiles(values, [50, 95, 99])).toEqual({ p50: 5, p95: 9, p99: 9 });
    expect(values).toEqual([9, 1, 5, 3, 7]);
    expect(latencySummary([])).toEqual({ p50: null, p95: null });
    expect(latencySummary([4, 2])).toEqual({ p50: 2, p95: 4 });
  });
});

describe("RecentSamples", () => {
  it("keeps exactly the last `capacity` samples, dropping the oldest first", () => {
    const ring = new RecentSamples(3);
    for (const v of [1, 2, 3, 4, 5]) ring.add(v);
    expect([...ring.values()].sort()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
  });
});
