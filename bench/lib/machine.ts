import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CpuTimes {
  busy: number;
  total: number;
}

/** Whole-machine CPU jiffies from /proc/stat (Linux); undefined elsewhere. */
export function readCpuTimes(): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Share of all cores busy between two readings, in % of the whole machine (100 = every core busy). */
export function busyPercent(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (!before || !after || after.total === before.total) return undefined;
  return Math.round((100 * (after.busy - before.busy)) / (after.total - before.total));
}

/**
 * Waits until the machine is quiet (under `thresholdPercent` busy over 500 ms,
 * e.g. after PostgreSQL's checkpoint following a dropped database), at most
 * `maxMs`. Returns the last busy figure seen.
 */
export async function settle(thresholdPercent = 10, maxMs = 10_000): Promise<number | undefined> {
  const deadline = Date.now() + maxMs;
  let busy: number | undefined;
  do {
    const before = readCpuTimes();
    await sleep(500);
    busy = busyPercent(before, readCpuTimes());
    if (busy === undefined || busy < thresholdPercent) return busy;
  } while (Date.now() < deadline);
  return busy;
}

export const cores = os.availableParallelism();

/** A process's CPU time so far (user + system, all threads) in ms, from /proc (Linux); undefined elsewhere or once it has exited. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of /proc's CPU times; 100 on every architecture Node runs on. */
const clockTicksPerSecond = 100;
