import type { DatabaseKind } from '../../test/support/scratch-database.js';

/** How a benchmark reports: named figures, targets checked against them, and notes. */

export interface Target {
  /** What is compared, e.g. "p99 start latency". */
  metric: string;
  value: number;
  comparison: '<=' | '>=';
  limit: number;
  unit: string;
  met: boolean;
}

export interface BenchResult {
  id: string;
  title: string;
  database?: DatabaseKind;
  /** Measured figures, JSON-serializable. */
  figures: Record<string, unknown>;
  targets: Target[];
  notes: string[];
  durationMs: number;
  /** Set when the benchmark could not complete; its targets then count as missed. */
  error?: string;
}

export function target(metric: string, value: number, comparison: '<=' | '>=', limit: number, unit: string): Target {
  const met = Number.isFinite(value) && (comparison === '<=' ? value <= limit : value >= limit);
  return { metric, value, comparison, limit, unit, met };
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return unit ? `${value.toFixed(digits)} ${unit}` : value.toFixed(digits);
}

export function describeTarget(t: Target): string {
  return `${t.met ? 'MET   ' : 'MISSED'} ${t.metric}: ${formatValue(t.value, t.unit)} (target ${t.comparison} ${formatValue(t.limit, t.unit)})`;
}

/** A line-oriented progress printer; everything a benchmark prints goes through it. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
