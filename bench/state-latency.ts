import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hypervisor } from '@unraid/libvirt';
import { startBenchSystem } from './lib/bench-system.js';
import { describeTarget, say, target, type BenchResult } from './lib/report.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { describeSummary, summarize } from './lib/stats.js';

export interface StateLatencyOptions {
  samples: number;
  /** The whole sampling loop stops after this long even if fewer samples were taken. */
  budgetMs: number;
}

const defaultUri = 'test:///default';
const probeIntervalMs = 2;
const sampleTimeoutMs = 5_000;

/**
 * Benchmark 2: how long a state change made behind Drover's back takes to show
 * in the API. An in-process agent watches test:///default (libvirt
 * lifecycle events, with the default 1 s poll as the safety net); a second
 * libvirt connection in the same process (which shares the default test host)
 * pauses and resumes the VM's domain in turn, and the benchmark polls
 * `GET /vms/{id}` every 2 ms until it shows `paused` or `up`. Each change
 * waits a random 0 to 200 ms first, so that changes fall at random points of
 * the agent's work.
 */
export async function stateLatency(database: DatabaseKind, options: StateLatencyOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = 'host-to-API state latency';
  say(`\n== [2] ${title} (${database})`);
  const system = await startBenchSystem(database, `state-${database}`);
  const hypervisor = new Hypervisor({ uri: defaultUri });
  let vmId: string | undefined;
  try {
    const pollIntervalMs = 1000;
    await system.addAgent({ name: 'state-host', uri: defaultUri, pollIntervalMs });
    const { api, client } = system;
    vmId = await api.createVm(`state-${database}`, 64);
    const started = await api.action(vmId, 'start');
    if (started.status !== 200) throw new Error(`starting the VM answered ${started.status}: ${started.text}`);
    await hypervisor.connectOpen();
    const domain = await hypervisor.domainLookupByUUIDString(vmId);
    say(`controller on ${database}; agent on ${defaultUri} listening to lifecycle events, polling every ${pollIntervalMs} ms; VM ${vmId} up`);

    const statusPath = system.path(`/vms/${vmId}`);
    const samples: number[] = [];
    const probesPerSample: number[] = [];
    let timeouts = 0;
    const deadline = performance.now() + options.budgetMs;
    for (let index = 0; index < options.samples && performance.now() < deadline; index++) {
      await sleep(Math.random() * 200);
      const pausing = index % 2 === 0;
      const expected = pausing ? 'paused' : 'up';
      const changedAt = performance.now();
      if (pausing) await hypervisor.domainSuspend(domain);
      else await hypervisor.domainResume(domain);
      let probes = 0;
      for (;;) {
        const response = await client.request('GET', statusPath, { accept: 'json' });
        probes++;
        if (response.status !== 200) throw new Error(`GET ${statusPath} answered ${response.status}: ${response.body}`);
        if ((JSON.parse(response.body) as { status?: string }).status === expected) {
          samples.push(performance.now() - changedAt);
          probesPerSample.push(probes);
          break;
        }
        if (performance.now() - changedAt > sampleTimeoutMs) {
          timeouts++;
          break;
        }
        await sleep(probeIntervalMs);
      }
    }
    const latency = summarize(samples);
    say(`${samples.length} changes seen (${timeouts} not within ${sampleTimeoutMs} ms): ${describeSummary(latency)}`);
    const targets = [target('state change visible p99', latency.p99, '<=', 1000, 'ms')];
    if (timeouts > 0) targets.push(target('changes not seen within 5 s', timeouts, '<=', 0, ''));
    for (const t of targets) say(describeTarget(t));
    return {
      id: 'state-latency',
      title,
      database,
      figures: {
        pollIntervalMs,
        probeIntervalMs,
        samples: samples.length,
        timeouts,
        latencyMs: latency,
        probesPerSampleMean: Math.round((probesPerSample.reduce((sum, value) => sum + value, 0) / Math.max(1, probesPerSample.length)) * 10) / 10,
      },
      targets,
      notes: [`changes arrive as libvirt lifecycle events; without them the ${pollIntervalMs} ms poll alone would give uniform 0-${pollIntervalMs} ms`],
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    // Leave test:///default as it was: the VM's domain is destroyed and undefined through the API.
    if (vmId) {
      await hypervisor.domainResume(await hypervisor.domainLookupByUUIDString(vmId)).catch(() => undefined);
      await system.api.action(vmId, 'stop').catch(() => undefined);
      await system.api.delete(`/vms/${vmId}`).catch(() => undefined);
    }
    await hypervisor.connectClose().catch(() => undefined);
    await system.close();
  }
}
