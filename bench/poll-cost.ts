import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LibvirtDriver } from '../agent/hypervisor/libvirt/driver.js';
import type { VmSpec } from '../shared/model.js';
import { temporaryDirectory } from '../test/support/temporary-directory.js';
import { privateTestHost } from '../test/support/test-hosts.js';
import { say, type BenchResult } from './lib/report.js';
import { describeSummary, round, summarize } from './lib/stats.js';

export interface PollCostOptions {
  domains: number;
  /** Warm listDomains() calls per state. */
  repeats: number;
}

async function timeList(driver: LibvirtDriver, repeats: number, expected: number): Promise<{ first: number; warm: ReturnType<typeof summarize> }> {
  const timeOne = async () => {
    const started = performance.now();
    const listed = await driver.listDomains();
    const ms = performance.now() - started;
    const managed = listed.filter((domain) => domain.managed).length;
    if (managed !== expected) throw new Error(`listDomains() saw ${managed} managed domains, not ${expected}`);
    return ms;
  };
  const first = await timeOne();
  const warm: number[] = [];
  for (let index = 0; index < repeats; index++) warm.push(await timeOne());
  return { first: round(first), warm: summarize(warm) };
}

/**
 * Part of benchmark 2: what one poll of the agent costs on a busy host. A
 * LibvirtDriver on a private test-driver host defines `domains` Drover domains
 * and times listDomains() — the call the agent's state watcher makes every
 * poll interval — first with all of them defined and shut off, then with all
 * of them running. The first call after the domains appear fills the driver's
 * identity caches; the warm calls are what every later poll costs.
 */
export async function pollCost(options: PollCostOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = `agent poll cost at ${options.domains} domains`;
  say(`\n== [2b] ${title}`);
  const directory = await temporaryDirectory('bench-poll');
  const uri = await privateTestHost(directory.path, 'poll-host', { memoryMiB: options.domains * 16 + 1024 });
  const driver = new LibvirtDriver({ uri, dataDir: path.join(directory.path, 'agent') });
  try {
    await driver.open();
    const clusterId = randomUUID();
    const ids: string[] = [];
    const defineMs: number[] = [];
    for (let index = 0; index < options.domains; index++) {
      const spec: VmSpec = {
        id: randomUUID(),
        name: `poll-${index}`,
        description: '',
        memoryBytes: 16 * 1024 * 1024,
        cpu: { sockets: 1, cores: 1, threads: 1 },
        osType: 'other',
        displayType: 'vnc',
        clusterId,
        disks: [],
        nics: [],
      };
      const started = performance.now();
      await driver.define(spec);
      defineMs.push(performance.now() - started);
      ids.push(spec.id);
    }
    const defined = await timeList(driver, options.repeats, options.domains);
    say(`${options.domains} defined (shut off): first listDomains() ${defined.first.toFixed(1)} ms; warm ${describeSummary(defined.warm)}`);
    const getDomainMs: number[] = [];
    const startMs: number[] = [];
    for (const id of ids) {
      let started = performance.now();
      await driver.getDomain(id);
      getDomainMs.push(performance.now() - started);
      started = performance.now();
      await driver.start(id);
      startMs.push(performance.now() - started);
    }
    const calls = { define: summarize(defineMs), getDomain: summarize(getDomainMs), start: summarize(startMs) };
    say(`driver calls alone (nothing else running in the process): define ${describeSummary(calls.define)}`);
    say(`  getDomain ${describeSummary(calls.getDomain)}`);
    say(`  start ${describeSummary(calls.start)}`);
    const running = await timeList(driver, options.repeats, options.domains);
    say(`${options.domains} running: first listDomains() ${running.first.toFixed(1)} ms; warm ${describeSummary(running.warm)}`);
    return {
      id: 'poll-cost',
      title,
      figures: {
        domains: options.domains,
        driverCallsAloneMs: calls,
        definedFirstListMs: defined.first,
        definedWarmListMs: defined.warm,
        runningFirstListMs: running.first,
        runningWarmListMs: running.warm,
      },
      targets: [],
      notes: ['informational: no target; at the default 200 ms poll interval the warm figure is the share of one core the watcher takes (ms per 200 ms)'],
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    await driver.close().catch(() => undefined);
    await directory.remove();
  }
}
