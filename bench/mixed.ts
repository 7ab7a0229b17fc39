import { performance } from 'node:perf_hooks';
import type { InProcessSystem } from '../test/support/in-process-system.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { privateTestHost } from '../test/support/test-hosts.js';
import { startBenchSystem } from './lib/bench-system.js';
import { runLoad, type KindResult, type LoadJob, type MeasuredLoad, type ReadKind } from './lib/load.js';
import { cores, settle } from './lib/machine.js';
import { agentProfileArguments, profilePhase } from './lib/profile.js';
import { describeTarget, say, target, type BenchResult, type Target } from './lib/report.js';
import { describeSummary, formatMs, round, type Summary } from './lib/stats.js';
import { loadTls, startBareKoa } from './get-throughput.js';

export interface MixedOptions {
  /** Keep-alive connections of the load generator, each a closed-loop client. */
  clients: number;
  /** Measured time of each phase. */
  durationMs: number;
  /** VMs on the host; every other one runs. */
  vms: number;
  /** Unmeasured load before each phase's window. */
  warmupMs: number;
  /** Each client's mean pause between a response and its next request; 0 makes the clients send without pause. */
  thinkMs: number;
}

const vmMemoryMiB = 16;
const listFollow = 'host';
/** The share of requests that are start or stop actions in the mixed phase. */
const actionShare = 0.1;
/** Measured time of the bare Koa floor. */
const floorMs = 5_000;

/** The reads of both phases, by weight: mostly single VMs and searches by name, some lists of every VM, with and without follow, and searches that match half. */
function readKinds(system: InProcessSystem, vms: Array<{ id: string; name: string }>): ReadKind[] {
  const search = (query: string) => system.path(`/vms?search=${encodeURIComponent(query)}`);
  return [
    { name: 'get', weight: 72, paths: vms.map((vm) => system.path(`/vms/${vm.id}`)) },
    { name: 'search name=', weight: 20, paths: vms.map((vm) => search(`name=${vm.name}`)) },
    { name: 'search status=up', weight: 2, paths: [search('status=up')] },
    { name: 'list', weight: 3, paths: [system.path('/vms')] },
    { name: `list follow=${listFollow}`, weight: 3, paths: [system.path(`/vms?follow=${listFollow}`)] },
  ];
}

interface KindFigures {
  latencyMs: Summary;
  /** 2xx answers. */
  ok: number;
  /** 409 answers to actions: the VM was already in that state, or busy. */
  conflicts: number;
  /** Every other answer (5xx included), and broken connections, by status. */
  failures: Record<string, number>;
}

interface PhaseFigures {
  rps: number;
  requests: number;
  latencyMs: Summary;
  byKind: Record<string, KindFigures>;
  failures: Record<string, number>;
  serverCpuPercent: number;
  clientCpuPercent: number;
  machineBusyPercent?: number;
}

function kindFigures(kind: string, result: KindResult): KindFigures {
  const figures: KindFigures = { latencyMs: result.latencyMs, ok: 0, conflicts: 0, failures: {} };
  const isAction = kind === 'start' || kind === 'stop';
  for (const [status, count] of Object.entries(result.statuses)) {
    if (/^2\d\d$/.test(status)) figures.ok += count;
    else if (isAction && status === '409') figures.conflicts += count;
    else figures.failures[status] = (figures.failures[status] ?? 0) + count;
  }
  return figures;
}

function phaseFigures(load: MeasuredLoad): PhaseFigures {
  const byKind = Object.fromEntries(Object.entries(load.byKind).map(([kind, result]) => [kind, kindFigures(kind, result)]));
  const failures: Record<string, number> = {};
  for (const figures of Object.values(byKind)) for (const [status, count] of Object.entries(figures.failures)) failures[status] = (failures[status] ?? 0) + count;
  return {
    rps: load.rps,
    requests: load.requests,
    latencyMs: load.latencyMs,
    byKind,
    failures,
    serverCpuPercent: load.serverCpuPercent,
    clientCpuPercent: load.clientCpuPercent,
    machineBusyPercent: load.machineBusyPercent,
  };
}

function describePhase(label: string, phase: PhaseFigures): void {
  const failures = Object.entries(phase.failures).map(([status, count]) => `${count} × ${status}`);
  say(`${label}: ${phase.rps} rps, ${phase.requests} requests, ${describeSummary(phase.latencyMs)}; failures: ${failures.length ? failures.join(', ') : 'none'}`);
  say(`  CPU: server process ${phase.serverCpuPercent}% of one core, client ${phase.clientCpuPercent}%, machine ${phase.machineBusyPercent ?? '?'}% of ${cores} cores`);
  const width = Math.max(...Object.keys(phase.byKind).map((kind) => kind.length));
  for (const [kind, figures] of Object.entries(phase.byKind).sort(([a], [b]) => a.localeCompare(b))) {
    const { latencyMs } = figures;
    const answers = [`${figures.ok} ok`, ...(figures.conflicts ? [`${figures.conflicts} × 409`] : []), ...Object.entries(figures.failures).map(([status, count]) => `${count} × ${status}`)];
    say(`  ${kind.padEnd(width)}  p50 ${formatMs(latencyMs.p50).padStart(8)}  p99 ${formatMs(latencyMs.p99).padStart(8)}  max ${formatMs(latencyMs.max).padStart(8)}  ${answers.join(', ')}`);
  }
}

/**
 * Benchmark 5: reads of a 1,000-VM system by many clients at once, alone and
 * mixed with start and stop actions, on one system. The controller runs in
 * the benchmark process with its agent as a process of its own on a private
 * test host; the clients are keep-alive connections of the closed-loop load
 * generator (bench/load-worker.ts, a child process). Phase (a) sends reads
 * only; phase (b) the same reads with a tenth of the requests start or stop
 * actions on VMs each client owns. A bare Koa app under the same clients
 * gives the floor.
 */
export async function mixedLoad(database: DatabaseKind, options: MixedOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = `mixed load, ${options.clients} clients, ${options.vms} VMs`;
  say(`\n== [5] ${title} (${database})`);
  const system = await startBenchSystem(database, `mixed-${database}`);
  try {
    const hostMemoryMiB = options.vms * vmMemoryMiB + 1024;
    const uri = await privateTestHost(system.directory, 'mixed-host', { memoryMiB: hostMemoryMiB });
    await system.addAgentProcess('mixed-host', uri, { nodeArguments: agentProfileArguments('mixed-host') });

    const preparing = performance.now();
    const vms: Array<{ id: string; name: string; up: boolean }> = [];
    const width = String(options.vms - 1).length;
    for (let index = 0; index < options.vms; index++) {
      const name = `mixed-${String(index).padStart(width, '0')}`;
      const response = await system.client.request('POST', system.path('/vms'), { body: `<vm><name>${name}</name><memory>${vmMemoryMiB * 1024 * 1024}</memory><cluster><name>Default</name></cluster></vm>` });
      const id = /<vm [^>]*id="([^"]+)"/.exec(response.body)?.[1];
      if (response.status !== 201 || !id) throw new Error(`creating ${name} answered ${response.status}: ${response.body.slice(0, 300)}`);
      vms.push({ id, name, up: false });
    }
    for (const vm of vms.filter((_, index) => index % 2 === 0)) {
      const response = await system.client.request('POST', system.path(`/vms/${vm.id}/start`), { body: '<action/>' });
      if (response.status !== 200) throw new Error(`starting ${vm.name} answered ${response.status}: ${response.body.slice(0, 300)}`);
      vm.up = true;
    }
    const running = vms.filter((vm) => vm.up).length;
    say(`controller on ${database}; agent process on ${uri} (${hostMemoryMiB} MiB declared); ${vms.length} VMs created and ${running} started in ${formatMs(performance.now() - preparing)}`);

    const reads = readKinds(system, vms);
    const job = (requests: LoadJob['requests'], port = Number(new URL(system.origin).port)): LoadJob => ({
      host: '127.0.0.1',
      port,
      tls: loadTls(system),
      headers: { Authorization: system.authorization, Accept: 'application/xml' },
      connections: options.clients,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      thinkMs: options.thinkMs,
      requests,
    });
    const phaseWindow = `${options.warmupMs / 1000} s of warm-up, ${options.durationMs / 1000} s measured`;

    await settle();
    say(`-- (a) reads only, ${phaseWindow}`);
    const readsOnly = phaseFigures(await profilePhase(`mixed-${database}-reads`, () => runLoad(job({ kind: 'mix', reads, actionShare: 0, vms: [] }))));
    describePhase('reads only', readsOnly);

    await settle();
    say(`-- (b) the same reads with ${actionShare * 100}% start and stop actions, ${phaseWindow}`);
    const togglable = vms.map((vm) => ({ path: system.path(`/vms/${vm.id}`), up: vm.up }));
    const mixed = phaseFigures(await profilePhase(`mixed-${database}-mixed`, () => runLoad(job({ kind: 'mix', reads, actionShare, vms: togglable }))));
    describePhase('mixed', mixed);

    await settle();
    const bare = await startBareKoa(system);
    let floor: PhaseFigures;
    try {
      floor = phaseFigures(await runLoad({ ...job({ kind: 'same', path: system.path(`/vms/${vms[0]!.id}`) }, bare.port), warmupMs: 1_000, durationMs: floorMs }));
    } finally {
      await bare.close();
    }
    say(`floor, bare Koa answering a fixed 143-byte document to the same ${options.clients} clients for ${floorMs / 1000} s: ${floor.rps} rps, ${describeSummary(floor.latencyMs)}`);

    const p99Of = (phase: PhaseFigures, kind: string) => phase.byKind[kind]?.latencyMs.p99 ?? Number.NaN;
    const listRatio = round(p99Of(mixed, 'list') / p99Of(readsOnly, 'list'), 2);
    const followRatio = round(p99Of(mixed, `list follow=${listFollow}`) / p99Of(readsOnly, `list follow=${listFollow}`), 2);
    say(`list p99: reads only ${formatMs(p99Of(readsOnly, 'list'))}, under writes ${formatMs(p99Of(mixed, 'list'))}, ratio ${listRatio}; with follow=${listFollow}: ${formatMs(p99Of(readsOnly, `list follow=${listFollow}`))} and ${formatMs(p99Of(mixed, `list follow=${listFollow}`))}, ratio ${followRatio}`);
    const targets: Target[] = [target('p99 of every request under mixed load', mixed.latencyMs.p99, '<=', 250, 'ms'), target('list p99 under writes / list p99 with reads only', listRatio, '<=', 2, '')];
    const failed = Object.values(readsOnly.failures).reduce((sum, count) => sum + count, 0) + Object.values(mixed.failures).reduce((sum, count) => sum + count, 0);
    if (failed > 0) targets.push(target('failed requests (neither 2xx nor an action\'s 409)', failed, '<=', 0, ''));
    for (const t of targets) say(describeTarget(t));
    return {
      id: 'mixed',
      title,
      database,
      figures: {
        vms: options.vms,
        running,
        clients: options.clients,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        thinkMs: options.thinkMs,
        reads: reads.map((read) => ({ name: read.name, weight: read.weight, paths: read.paths.length })),
        actionShare,
        readsOnly,
        mixed,
        listP99Ratio: listRatio,
        listFollowP99Ratio: followRatio,
        bareKoa: floor,
      },
      targets,
      notes: [],
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    await system.close();
  }
}
