/** Small statistics helpers for the benchmarks: percentiles by nearest rank, and a fixed-precision summary. */

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The p-th percentile (0 < p <= 100) of already sorted samples, by the nearest-rank method. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    p50: round(percentileOfSorted(sorted, 50)),
    p90: round(percentileOfSorted(sorted, 90)),
    p99: round(percentileOfSorted(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(sorted.length ? total / sorted.length : Number.NaN),
  };
}

/** Rounds to three significant decimals, enough for milliseconds. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

export function describeSummary(summary: Summary): string {
  return `n=${summary.count} min=${formatMs(summary.min)} p50=${formatMs(summary.p50)} p90=${formatMs(summary.p90)} p99=${formatMs(summary.p99)} max=${formatMs(summary.max)} mean=${formatMs(summary.mean)}`;
}
