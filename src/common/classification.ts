/** Classification metrics over label indices. */

export interface LabelMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  n: number;
  accuracy: number;
  macroF1: number;
  perLabel: LabelMetrics[];
  /** Most frequent (true -> predicted) mistakes. */
  confusions: { actual: string; predicted: string; count: number }[];
  /** Ordered tiers only: predicted a cheaper tier than needed (quality loss) / a costlier one (cost inflation). */
  underRouting?: number;
  overRouting?: number;
}

export function accuracy(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) ok++;
  return actual.length ? ok / actual.length : 0;
}

export function classificationReport(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  labels: readonly string[],
  options: { ordered?: boolean; topConfusions?: number } = {},
): ClassificationReport {
  const L = labels.length;
  const tp = new Float64Array(L);
  const fp = new Float64Array(L);
  const fn = new Float64Array(L);
  const pairs = new Map<string, number>();
  let under = 0;
  let over = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const p = predicted[i];
    if (a === p) tp[a]++;
    else {
      fn[a]++;
      if (p >= 0) fp[p]++;
      const key = `${a}\u0000${p}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
      if (p < a) under++;
      else over++;
    }
  }
  const perLabel: LabelMetrics[] = labels.map((label, l) => {
    const precision = tp[l] + fp[l] ? tp[l] / (tp[l] + fp[l]) : 0;
    const recall = tp[l] + fn[l] ? tp[l] / (tp[l] + fn[l]) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: tp[l] + fn[l] };
  });
  const present = perLabel.filter((m) => m.support > 0);
  const confusions = [...pairs.entries()]
    .map(([key, count]) => {
      const [a, p] = key.split("\u0000").map(Number);
      return { actual: labels[a], predicted: p >= 0 ? labels[p] : "(none)", count };
    })
    .sort((x, y) => y.count - x.count)
    .slice(0, options.topConfusions ?? 10);
  const n = actual.length;
  return {
    n,
    accuracy: accuracy(predicted, actual),
    macroF1: present.length ? present.reduce((s, m) => s + m.f1, 0) / present.length : 0,
    perLabel,
    confusions,
    ...(options.ordered ? { underRouting: n ? under / n : 0, overRouting: n ? over / n : 0 } : {}),
  };
}
