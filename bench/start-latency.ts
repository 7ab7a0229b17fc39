import { performance } from 'node:perf_hooks';
import { LibvirtDriver } from '../agent/hypervisor/libvirt/driver.js';
import { FakeDriver } from '../agent/hypervisor/fake/driver.js';
import type { InProcessSystem } from '../test/support/in-process-system.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { privateTestHost } from '../test/support/test-hosts.js';
import { startBenchSystem } from './lib/bench-system.js';
import { describeTarget, say, target, type BenchResult } from './lib/report.js';
import { describeSummary, round, summarize, type Summary } from './lib/stats.js';
import { CallTimings, timedDriver } from './lib/timed-driver.js';
import { agentProfileArguments, profilePhase } from './lib/profile.js';
import { busyPercent, cores, processCpuMs, readCpuTimes } from './lib/machine.js';
import { runSequence } from './lib/load.js';

export interface StartLatencyOptions {
  vms: number;
  /** How many times the whole measurement runs, each on a new system; the figures cover every round's starts. */
  rounds: number;
  /** Stop creating or starting VMs once this much time has passed in a phase. */
  phaseBudgetMs: number;
  /** Diagnostic: drive the in-memory FakeDriver instead of libvirt, to see what the rest costs. */
  fakeDriver?: boolean;
  /** Runs the agent inside the benchmark process (diagnostic: its libvirt calls are then timed). */
  inProcessAgent?: boolean;
}

const vmMemoryMiB = 16;

/**
 * Splits each start's round trip at the timestamps the controller stores on
 * the task (created before the task row is inserted, started after placement,
 * ended after the agent answered and the outcome was recorded), with the
 * client's send and receive times on the same clock.
 */
async function taskBreakdown(system: InProcessSystem, spans: Array<{ taskId: string; sentAt: number; receivedAt: number }>): Promise<Record<string, Summary>> {
  const rows: Array<{ id: string; created_at: number | string; started_at: number | string | null; ended_at: number | string | null }> = await system.controller.orm.em
    .getConnection()
    .execute(`select id, created_at, started_at, ended_at from tasks where action = 'start'`);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const segments = {
    'request sent -> task created (HTTP, auth, routing, checks)': [] as number[],
    'task created -> started (task insert, VM update, placement)': [] as number[],
    'started -> ended (task update, agent round trip, outcome)': [] as number[],
    'ended -> response received (task update, answer, HTTP)': [] as number[],
  };
  const [toCreated, toStarted, toEnded, toResponse] = Object.values(segments);
  for (const span of spans) {
    const row = byId.get(span.taskId);
    if (!row || row.started_at === null || row.ended_at === null) continue;
    const created = Number(row.created_at);
    const started = Number(row.started_at);
    const ended = Number(row.ended_at);
    toCreated!.push(created - span.sentAt);
    toStarted!.push(started - created);
    toEnded!.push(ended - started);
    toResponse!.push(span.receivedAt - ended);
  }
  return Object.fromEntries(Object.entries(segments).map(([name, values]) => [name, summarize(values)]));
}

/**
 * Benchmark 1: the latency of a synchronous `POST /vms/{id}/start` (REST round
 * trip until `200` with `<status>complete</status>`), for `vms` VMs started one
 * after another on one host, after 50 warm-up starts of other VMs that are not
 * counted. The host is a private libvirt test-driver node whose declared memory
 * fits every VM (16 MiB each) plus 1 GiB.
 */
/** Starts of extra VMs before the measured ones, so that the measured starts run compiled code paths. */
const warmupStarts = 50;

export async function startLatency(database: DatabaseKind, options: StartLatencyOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = `sync start latency, ${options.rounds} x ${options.vms} VMs${options.fakeDriver ? ' (FakeDriver)' : ''}`;
  say(`\n== [1] ${title} (${database})`);
  const rounds: StartRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    say(`-- round ${round} of ${options.rounds}: a new controller, agent, database and host`);
    rounds.push(await startRound(database, options));
  }
  const startMs = rounds.flatMap((round) => round.startMs);
  const start = summarize(startMs);
  const roundP50s = rounds.map((round) => round.start.p50);
  say(`all ${rounds.length} rounds, ${startMs.length} starts: ${describeSummary(start)}; p50 per round ${roundP50s.map((value) => value.toFixed(2)).join(' ')} ms`);
  const targets = [target('start p50', start.p50, '<=', 5, 'ms'), target('start p99', start.p99, '<=', 25, 'ms')];
  for (const t of targets) say(describeTarget(t));
  return {
    id: 'start-latency',
    title,
    database,
    figures: { startLatencyMs: start, startP50ByRoundMs: roundP50s, rounds: rounds.map((round) => round.figures) },
    targets,
    notes: [],
    durationMs: Math.round(performance.now() - began),
  };
}

interface StartRound {
  startMs: number[];
  start: Summary;
  figures: Record<string, unknown>;
}

async function startRound(database: DatabaseKind, options: StartLatencyOptions): Promise<StartRound> {
  const system = await startBenchSystem(database, `start-${database}`);
  try {
    const hostMemoryMiB = (options.vms + warmupStarts) * vmMemoryMiB + 1024;
    const uri = await privateTestHost(system.directory, 'start-host', { memoryMiB: hostMemoryMiB });
    const timings = new CallTimings();
    timings.enabled = false;
    if (options.inProcessAgent || options.fakeDriver) {
      await system.addAgent({
        name: 'start-host',
        uri,
        driver: (driverOptions) => timedDriver(options.fakeDriver ? new FakeDriver() : new LibvirtDriver(driverOptions), timings),
      });
    } else {
      await system.addAgentProcess('start-host', uri, { nodeArguments: agentProfileArguments('start-host') });
    }
    say(`agent: ${options.inProcessAgent || options.fakeDriver ? 'in this process (sharing its event loop with the controller)' : 'its own process, as npm start runs it'}`);
    if (options.fakeDriver) say('DIAGNOSTIC MODE: the agent drives the in-memory FakeDriver, not libvirt');
    say(`controller ${system.apiRoot} on ${database}; agent on ${uri} (${hostMemoryMiB} MiB declared)`);

    const { client } = system;
    const ids: string[] = [];
    const createMs: number[] = [];
    const createDeadline = performance.now() + options.phaseBudgetMs;
    for (let index = 0; index < options.vms && performance.now() < createDeadline; index++) {
      const name = `bench-${String(index).padStart(5, '0')}`;
      const body = `<vm><name>${name}</name><memory>${vmMemoryMiB * 1024 * 1024}</memory><cluster><name>Default</name></cluster></vm>`;
      const response = await client.request('POST', system.path('/vms'), { body });
      if (response.status !== 201) throw new Error(`creating ${name} answered ${response.status}: ${response.body}`);
      const id = /<vm [^>]*id="([^"]+)"/.exec(response.body)?.[1];
      if (!id) throw new Error(`creating ${name} answered without an id: ${response.body}`);
      ids.push(id);
      createMs.push(response.ms);
    }
    const create = summarize(createMs);
    say(`created ${ids.length} VMs: ${describeSummary(create)}`);

    const warmIds: string[] = [];
    for (let index = 0; index < warmupStarts; index++) {
      const body = `<vm><name>warm-${index}</name><memory>${vmMemoryMiB * 1024 * 1024}</memory><cluster><name>Default</name></cluster></vm>`;
      const response = await client.request('POST', system.path('/vms'), { body });
      const id = /<vm [^>]*id="([^"]+)"/.exec(response.body)?.[1];
      if (response.status !== 201 || !id) throw new Error(`creating warm-up VM ${index} answered ${response.status}: ${response.body}`);
      warmIds.push(id);
    }
    await runSequence({
      origin: client.origin,
      authorization: client.authorization,
      ca: client.ca,
      method: 'POST',
      paths: warmIds.map((id) => system.path(`/vms/${id}/start`)),
      body: '<action/>',
      budgetMs: options.phaseBudgetMs,
    });
    say(`${warmupStarts} warm-up starts done (not counted)`);

    timings.enabled = true;
    const startMs: number[] = [];
    const spans: Array<{ taskId: string; sentAt: number; receivedAt: number }> = [];
    let failures = 0;
    let firstFailure: string | undefined;
    let connectionsOpened = 0;
    const phaseStarted = performance.now();
    const cpuBefore = process.cpuUsage();
    const agentPid = system.agentProcesses.get('start-host')?.pid;
    const agentCpuBefore = processCpuMs(agentPid);
    const machineBefore = readCpuTimes();
    await profilePhase(`start-latency-${database}`, async () => {
      const sequence = await runSequence({
        origin: client.origin,
        authorization: client.authorization,
        ca: client.ca,
        method: 'POST',
        paths: ids.map((id) => system.path(`/vms/${id}/start`)),
        body: '<action/>',
        budgetMs: options.phaseBudgetMs,
      });
      connectionsOpened = sequence.connectionsOpened;
      for (const sample of sequence.samples) {
        if (sample.status === 200 && sample.body.includes('<status>complete</status>')) {
          startMs.push(sample.ms);
          const taskId = /<task [^>]*id="([^"]+)"/.exec(sample.body)?.[1];
          if (taskId) spans.push({ taskId, sentAt: sample.sentAt, receivedAt: sample.sentAt + sample.ms });
        } else {
          failures++;
          firstFailure ??= `${sample.status}: ${sample.body.slice(0, 300)}`;
        }
      }
    });
    const phaseMs = performance.now() - phaseStarted;
    const cpu = process.cpuUsage(cpuBefore);
    const agentCpuAfter = processCpuMs(agentPid);
    const perStart = (ms: number | undefined) => (ms === undefined || startMs.length === 0 ? undefined : round(ms / startMs.length, 3));
    const controllerCpuPerStartMs = perStart((cpu.user + cpu.system) / 1000);
    const agentCpuPerStartMs = agentCpuBefore === undefined || agentCpuAfter === undefined ? undefined : perStart(agentCpuAfter - agentCpuBefore);
    const cpuPercent = round((100 * (cpu.user + cpu.system)) / 1000 / phaseMs, 0);
    const machineBusy = busyPercent(machineBefore, readCpuTimes());
    const otherCpuPercent = machineBusy === undefined ? undefined : Math.max(0, Math.round(machineBusy * cores - cpuPercent));
    timings.enabled = false;
    const start = summarize(startMs);
    say(`started ${startMs.length} VMs in ${(phaseMs / 1000).toFixed(1)} s (${failures} failed): ${describeSummary(start)}`);
    say(`CPU during the start phase: this process ${cpuPercent}% of one core (user+system, all threads); other processes (the client, and PostgreSQL when used) ${otherCpuPercent ?? '?'}% of a core`);
    say(`CPU per start (all threads): ${agentPid === undefined ? 'controller and agent' : 'controller'} ${controllerCpuPerStartMs ?? '?'} ms${agentPid === undefined ? '' : `, agent ${agentCpuPerStartMs ?? '?'} ms`}`);
    if (firstFailure) say(`first failure: ${firstFailure}`);

    // How latency grows with the number of running domains on the host: p50 per tenth of the run.
    const tenth = Math.max(1, Math.floor(startMs.length / 10));
    const p50ByDecile: number[] = [];
    for (let offset = 0; offset + tenth <= startMs.length; offset += tenth) p50ByDecile.push(summarize(startMs.slice(offset, offset + tenth)).p50);
    say(`p50 per tenth of the run (more running domains to the right): ${p50ByDecile.map((value) => value.toFixed(2)).join(' ')} ms`);

    const breakdown = await taskBreakdown(system, spans);
    say(`where a start's time goes (from the tasks' own timestamps, 1 ms resolution; mean / p50 per start):`);
    for (const [segment, summary] of Object.entries(breakdown)) say(`  ${segment.padEnd(58)} ${summary.mean.toFixed(2)} / ${summary.p50.toFixed(2)} ms`);

    const driverCalls = timings.summaries();
    for (const [method, summary] of Object.entries(driverCalls)) say(`  agent driver.${method}: ${describeSummary(summary)} total=${summary.totalMs} ms`);

    const lastStatus = ids.length ? (await system.api.vm(ids[Math.min(ids.length, startMs.length) - 1]!)).status : undefined;
    return {
      startMs,
      start,
      figures: {
        vmsRequested: options.vms,
        vmsCreated: ids.length,
        vmsStarted: startMs.length,
        failures,
        firstFailure,
        hostMemoryMiB,
        fakeDriver: options.fakeDriver ?? false,
        inProcessAgent: options.inProcessAgent ?? false,
        createLatencyMs: create,
        startLatencyMs: start,
        startPhaseSeconds: round(phaseMs / 1000, 2),
        startPhaseCpuPercent: cpuPercent,
        startPhaseOtherProcessesCpuPercent: otherCpuPercent,
        controllerCpuPerStartMs,
        agentCpuPerStartMs,
        startP50ByDecileMs: p50ByDecile,
        breakdownMs: breakdown,
        agentDriverCallsMs: driverCalls,
        lastVmStatus: lastStatus,
        startConnectionsOpened: connectionsOpened,
      },
    };
  } finally {
    await system.close();
  }
}
