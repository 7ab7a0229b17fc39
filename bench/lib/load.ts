import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { KindResult, LoadJob, LoadResult, ReadKind } from '../load-worker.js';
import { busyPercent, readCpuTimes, type CpuTimes } from './machine.js';

export type { KindResult, LoadJob, LoadResult, ReadKind };

export interface MeasuredLoad extends LoadResult {
  /** CPU of this (the server's) process during the measurement window, % of one core, all threads. */
  serverCpuPercent: number;
  /** The whole machine's CPU during the window, % of all cores. */
  machineBusyPercent?: number;
  /** When the measurement window began, on this process's `performance.now()` clock. */
  windowStartedAt: number;
}

const workerPath = fileURLToPath(new URL('../load-worker.js', import.meta.url));

/** Runs one load job in a child process and measures this process's CPU during its measurement window. */
export function runLoad(job: LoadJob): Promise<MeasuredLoad> {
  return new Promise((resolve, reject) => {
    const child = fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let cpuAtWindowStart: NodeJS.CpuUsage | undefined;
    let windowStartedAt = performance.now();
    let machineAtWindowStart: CpuTimes | undefined;
    let settled = false;
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      if (!settled) reject(new Error('the load worker did not finish in time'));
      settled = true;
    }, job.warmupMs + job.durationMs + 30_000);
    child.on('message', (message: { type: string; result?: LoadResult; message?: string }) => {
      if (message.type === 'measuring') {
        cpuAtWindowStart = process.cpuUsage();
        machineAtWindowStart = readCpuTimes();
        windowStartedAt = performance.now();
      }
      else if (message.type === 'result' && message.result && !settled) {
        settled = true;
        clearTimeout(killer);
        const cpu = process.cpuUsage(cpuAtWindowStart);
        const elapsedMs = performance.now() - windowStartedAt;
        const machineBusyPercent = busyPercent(machineAtWindowStart, readCpuTimes());
        resolve({ ...message.result, serverCpuPercent: Math.round((100 * (cpu.user + cpu.system)) / 1000 / elapsedMs), machineBusyPercent, windowStartedAt });
      } else if (message.type === 'error' && !settled) {
        settled = true;
        clearTimeout(killer);
        reject(new Error(`load worker: ${message.message}`));
      }
    });
    child.on('exit', (code) => {
      if (!settled) {
        settled = true;
        clearTimeout(killer);
        reject(new Error(`the load worker exited with ${code} before reporting`));
      }
    });
    child.send(job);
  });
}

import type { SequenceJob, SequenceResult, SequenceSample } from '../sequence-worker.js';
export type { SequenceJob, SequenceResult, SequenceSample };

const sequenceWorkerPath = fileURLToPath(new URL('../sequence-worker.js', import.meta.url));

/** Runs requests one after another from a child process and returns every round trip. */
export function runSequence(job: SequenceJob): Promise<SequenceResult> {
  return new Promise((resolve, reject) => {
    const child = fork(sequenceWorkerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      if (!settled) reject(new Error('the sequence worker did not finish in time'));
      settled = true;
    }, job.budgetMs + 60_000);
    child.on('message', (message: { type: string; samples?: SequenceSample[]; connectionsOpened?: number; message?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      if (message.type === 'result' && message.samples) resolve({ samples: message.samples, connectionsOpened: message.connectionsOpened ?? 0 });
      else reject(new Error(`sequence worker: ${message.message ?? 'no result'}`));
    });
    child.on('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      reject(new Error(`the sequence worker exited with ${code} before reporting`));
    });
    child.send(job);
  });
}
