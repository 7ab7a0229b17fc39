import { performance } from 'node:perf_hooks';
import type { HypervisorDriver } from '../../agent/hypervisor/driver.js';
import { summarize, type Summary } from './stats.js';

/** Durations of driver calls by method name, collected while `enabled`. */
export class CallTimings {
  enabled = true;
  private readonly samples = new Map<string, number[]>();

  record(method: string, ms: number): void {
    if (!this.enabled) return;
    let list = this.samples.get(method);
    if (!list) this.samples.set(method, (list = []));
    list.push(ms);
  }

  reset(): void {
    this.samples.clear();
  }

  summaries(): Record<string, Summary & { totalMs: number }> {
    const out: Record<string, Summary & { totalMs: number }> = {};
    for (const [method, list] of [...this.samples].sort(([a], [b]) => a.localeCompare(b))) {
      out[method] = { ...summarize(list), totalMs: Math.round(list.reduce((sum, value) => sum + value, 0)) };
    }
    return out;
  }
}

/**
 * Wraps a HypervisorDriver so that every asynchronous method call is timed
 * (from the call to its settlement). The agent under test uses the wrapper as
 * its driver; nothing else changes.
 */
export function timedDriver<T extends HypervisorDriver>(driver: T, timings: CallTimings): T {
  return new Proxy(driver, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const result = value.apply(target, args);
        if (result instanceof Promise) return result.finally(() => timings.record(String(property), performance.now() - started));
        return result;
      };
    },
  });
}
