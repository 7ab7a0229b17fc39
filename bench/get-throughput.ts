import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Koa from 'koa';
import { createApiServer } from '../controller/api/listener.js';
import type { InProcessSystem } from '../test/support/in-process-system.js';
import { startBenchSystem } from './lib/bench-system.js';
import { runLoad, type MeasuredLoad } from './lib/load.js';
import { describeTarget, say, target, type BenchResult } from './lib/report.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { describeSummary, round } from './lib/stats.js';
import { profilePhase } from './lib/profile.js';
import { cores, settle } from './lib/machine.js';

export interface ThroughputOptions {
  connections: number;
  warmupMs: number;
  /** Measured time per round and target. */
  durationMs: number;
  /** Drover and bare Koa are measured in alternation this many times each. */
  rounds: number;
}

const bareBody = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<vm id="00000000-0000-4000-8000-000000000000"><name>bare</name><status>up</status></vm>';

/** Whether the system's API serves HTTPS: then load clients reach it, and the bare Koa floor, over TLS trusting the system's CA. */
export function loadTls(system: InProcessSystem): { ca: string } | undefined {
  return new URL(system.origin).protocol === 'https:' ? { ca: system.controller.ca.certificatePem } : undefined;
}

/**
 * A Koa app that answers every request with the same small XML document: the
 * floor of what any Koa server can do on this machine. It is served as the
 * system's API is, by the same server factory: over HTTPS with the
 * controller's own server certificate when the API serves HTTPS, over plain
 * HTTP otherwise.
 */
export async function startBareKoa(system: InProcessSystem): Promise<{ port: number; close: () => Promise<void> }> {
  const app = new Koa();
  app.use((ctx) => {
    ctx.type = 'application/xml';
    ctx.body = bareBody;
  });
  const server = createApiServer(app.callback(), loadTls(system) ? system.controller.serverCertificate : undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** CPU used by processes other than the server and the client during a load window, in % of one core. */
function otherCpu(load: MeasuredLoad): number | undefined {
  if (load.machineBusyPercent === undefined) return undefined;
  return Math.max(0, Math.round(load.machineBusyPercent * cores - load.serverCpuPercent - load.clientCpuPercent));
}

function combine(loads: MeasuredLoad[]) {
  const requests = loads.reduce((sum, load) => sum + load.requests, 0);
  const windowMs = loads.reduce((sum, load) => sum + load.windowMs, 0);
  return {
    /** The best round: interference from other work on the machine only ever lowers a round's figure. */
    rps: Math.max(...loads.map((load) => load.rps)),
    meanRps: Math.round((requests / windowMs) * 1000),
    requests,
    rounds: loads.map((load) => load.rps),
    non200: loads.reduce((sum, load) => sum + load.non200, 0),
    errors: loads.reduce((sum, load) => sum + load.errors, 0),
    reconnects: loads.reduce((sum, load) => sum + load.reconnects, 0),
    bodyBytes: loads[0]?.bodyBytes ?? 0,
    latencyMsLastRound: loads[loads.length - 1]?.latencyMs,
    clientCpuPercent: loads.map((load) => load.clientCpuPercent),
    serverCpuPercent: loads.map((load) => load.serverCpuPercent),
    otherProcessesCpuPercent: loads.map(otherCpu),
  };
}

/**
 * Benchmark 3: requests per second of `GET /vms/{id}` (XML, Basic auth, a
 * running VM on a connected host) against a bare Koa app on another port that
 * answers a fixed small XML body, both driven by the same closed-loop client
 * (a child process) with the same number of keep-alive connections and the
 * same request headers, in alternating rounds. Each side's figure is its best
 * round, since other work on the machine can only lower a round's figure.
 */
export async function getThroughput(database: DatabaseKind, options: ThroughputOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = `GET /vms/{id} throughput vs bare Koa, ${options.connections} connections`;
  say(`\n== [3] ${title} (${database})`);
  const system = await startBenchSystem(database, `rps-${database}`);
  const bare = await startBareKoa(system);
  let vmId: string | undefined;
  try {
    await system.addAgent({ name: 'rps-host', uri: 'test:///default' });
    vmId = await system.api.createVm(`rps-${database}`, 64);
    const started = await system.api.action(vmId, 'start');
    if (started.status !== 200) throw new Error(`starting the VM answered ${started.status}: ${started.text}`);
    const vmPath = system.path(`/vms/${vmId}`);
    const probe = await system.client.request('GET', vmPath);
    if (probe.status !== 200 || !probe.body.includes('<status>up</status>')) throw new Error(`GET ${vmPath} answered ${probe.status}: ${probe.body.slice(0, 200)}`);
    const apiPort = Number(new URL(system.apiRoot).port);
    const headers = { Authorization: system.client.authorization, Accept: 'application/xml' };
    const job = { host: '127.0.0.1', tls: loadTls(system), headers, connections: options.connections, warmupMs: options.warmupMs, durationMs: options.durationMs };

    const droverLoads: MeasuredLoad[] = [];
    const bareLoads: MeasuredLoad[] = [];
    const describeLoad = (load: MeasuredLoad) => {
      const other = otherCpu(load);
      return `${load.rps} rps, ${describeSummary(load.latencyMs)}; CPU (% of one core): server process ${load.serverCpuPercent}, client ${load.clientCpuPercent}, other (kernel loopback work, other processes) ${other ?? '?'}${(other ?? 0) > 40 ? ' (NOISY: something else was busy)' : ''}`;
    };
    for (let round = 0; round < options.rounds; round++) {
      await settle();
      const drover = await profilePhase(`get-throughput-${database}-drover-round${round + 1}`, () => runLoad({ ...job, port: apiPort, requests: { kind: 'same', path: vmPath } }));
      droverLoads.push(drover);
      say(`round ${round + 1} drover:   ${describeLoad(drover)}`);
      await settle();
      const koa = await profilePhase(`get-throughput-${database}-bare-round${round + 1}`, () => runLoad({ ...job, port: bare.port, requests: { kind: 'same', path: vmPath } }));
      bareLoads.push(koa);
      say(`round ${round + 1} bare Koa: ${describeLoad(koa)}`);
    }
    const droverFigures = combine(droverLoads);
    const bareFigures = combine(bareLoads);
    const ratio = round(droverFigures.rps / bareFigures.rps, 3);
    const ratioByRound = droverLoads.map((load, index) => round(load.rps / bareLoads[index]!.rps, 3));
    say(
      `best of ${options.rounds} rounds: drover ${droverFigures.rps} rps (${droverFigures.bodyBytes} B bodies), bare Koa ${bareFigures.rps} rps (${bareFigures.bodyBytes} B bodies), ratio ${ratio.toFixed(3)} (round by round: ${ratioByRound.join(', ')})`,
    );
    const targets = [target('GET /vms/{id} rps / bare Koa rps', ratio, '>=', 0.4, '')];
    if (droverFigures.non200 + droverFigures.errors > 0) targets.push(target('GET /vms/{id} non-200 or broken responses', droverFigures.non200 + droverFigures.errors, '<=', 0, ''));
    for (const t of targets) say(describeTarget(t));
    return {
      id: 'get-throughput',
      title,
      database,
      figures: { connections: options.connections, warmupMs: options.warmupMs, durationMsPerRound: options.durationMs, rounds: options.rounds, drover: droverFigures, bareKoa: bareFigures, ratio, ratioByRound },
      targets,
      notes: [],
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    await bare.close();
    if (vmId) {
      await system.api.action(vmId, 'stop').catch(() => undefined);
      await system.api.delete(`/vms/${vmId}`).catch(() => undefined);
    }
    await system.close();
  }
}
