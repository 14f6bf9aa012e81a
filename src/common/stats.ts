/**
 * @module
 * Summary statistics over latency samples: nearest-rank percentiles, and a bounded window of the most
 * recent samples for long-running processes. The one place percentiles are computed (server, fallback,
 * decision log, evaluation, bench), so every report means the same thing by p95.
 */

/** Nearest-rank percentile (p in 0..100) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Several percentiles of unsorted values, keyed `p50`, `p95`...; NaN each when there are none. */
export function quantiles<P extends number>(values: readonly number[], ps: readonly P[]): Record<`p${P}`, number> {
  const sorted = [...values].sort((a, b) => a - b);
  return Object.fromEntries(ps.map((p) => [`p${p}`, percentile(sorted, p)])) as Record<`p${P}`, number>;
}

/** Median and p95 of unsorted values, null when there are none: the latency pair the stats endpoints report. */
export function latencySummary(values: readonly number[]): { p50: number | null; p95: number | null } {
  if (values.length === 0) return { p50: null, p95: null };
  const q = quantiles(values, [50, 95]);
  return { p50: q.p50, p95: q.p95 };
}

/** The last `capacity` samples (a ring): bounded memory however long the process runs. */
export class RecentSamples {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  add(value: number): void {
    if (this.samples.length < this.capacity) this.samples.push(value);
    else {
      this.samples[this.next] = value; // the oldest sample
      this.next = (this.next + 1) % this.capacity;
    }
  }

  get size(): number {
    return this.samples.length;
  }

  /** The samples in no particular order. */
  values(): readonly number[] {
    return this.samples;
  }
}
