import { execFileSync } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadedLibvirtVersion } from '../agent/hypervisor/libvirt/node-facts.js';
import { summarize } from './lib/stats.js';
import { settle } from './lib/machine.js';
import { startLatency } from './start-latency.js';
import { stateLatency } from './state-latency.js';
import { pollCost } from './poll-cost.js';
import { getThroughput } from './get-throughput.js';
import { followBenchmark } from './follow.js';
import { mixedLoad } from './mixed.js';
import { qemuLifecycle } from './qemu-lifecycle.js';
import { migrationBenchmark } from './migration.js';
import { eventDelivery } from './event-delivery.js';
import { postgresBaseUrl, type DatabaseKind } from '../test/support/scratch-database.js';
import { temporaryDirectory } from '../test/support/temporary-directory.js';
import { formatValue, say, type BenchResult } from './lib/report.js';

/**
 * `npm run bench`: runs every benchmark on SQLite and on PostgreSQL, prints
 * each one's figures and targets (MET or MISSED), writes a JSON summary to
 * bench/results/latest.json and prints a table. Missed targets do not fail the
 * run; a benchmark that could not run at all makes the exit code 1.
 *
 * Environment (all optional):
 *   BENCH_VMS=1000            VMs created and started by benchmark 1, per round
 *   BENCH_START_ROUNDS=3      rounds of benchmark 1, each on a new system; its figures cover all of them
 *   BENCH_DATABASES=sqlite,postgres
 *   BENCH_ONLY=start,state,poll,rps,follow,mixed,qemu,migration,events   a subset of the benchmarks
 *   BENCH_QEMU_CYCLES=15      start/stop cycles per side of benchmark 6 (QEMU guest vs virsh)
 *   BENCH_MIGRATIONS=10       migrations per side of benchmark 7 (Drover vs virsh migrate), alternating in direction
 *   BENCH_MIGRATION_FILL_MIB=200  MiB each 256 MiB guest of benchmark 7 writes before it is migrated
 *   BENCH_MAINTENANCE_VMS=10  running VMs on the host benchmark 7 puts into maintenance (0: no maintenance)
 *   BENCH_MAINTENANCE_ROUNDS=2    measured maintenances of benchmark 7, the two hosts in turn
 *   BENCH_STATE_SAMPLES=200   state changes timed by benchmark 2
 *   BENCH_EVENT_CHANGES=300   state changes timed by benchmark 8 per configuration (1 and BENCH_EVENT_SUBSCRIBERS subscribers, Drover and the floor)
 *   BENCH_EVENT_SUBSCRIBERS=100   SSE subscribers of benchmark 8's crowded latency and throughput phases
 *   BENCH_EVENT_PRODUCERS=8   keep-alive clients posting external events in benchmark 8's throughput phase
 *   BENCH_EVENT_SECONDS=10    measured seconds of each of benchmark 8's throughput phases (after 2 s of warm-up)
 *   BENCH_POLL_DOMAINS=1000   domains for the poll-cost measurement
 *   BENCH_RPS_SECONDS=4       measured seconds per round and target in benchmark 3 (after 1 s of warm-up)
 *   BENCH_RPS_ROUNDS=3        rounds per target in benchmark 3 (Drover and bare Koa alternate; the best round counts)
 *   BENCH_CONNECTIONS=16      keep-alive connections in benchmark 3
 *   BENCH_FOLLOW_VMS=1000,10000   fleet sizes for benchmark 4 (follow, crawl, search)
 *   BENCH_CRAWL_CONNECTIONS=8 keep-alive connections of benchmark 4's client-side crawl
 *   BENCH_MIXED_CLIENTS=200   keep-alive clients of benchmark 5 (mixed load)
 *   BENCH_MIXED_SECONDS=60    measured seconds of each of benchmark 5's two phases
 *   BENCH_MIXED_VMS=1000      VMs of benchmark 5, every other one running
 *   BENCH_MIXED_THINK_MS=3000 each of benchmark 5's clients' mean pause between a response and its next request (0: none)
 *   BENCH_FAKE_DRIVER=1       diagnostic: benchmark 1's agent drives the in-memory FakeDriver instead of libvirt
 *   BENCH_AGENT_IN_PROCESS=1  diagnostic: benchmark 1's agent runs in the benchmark process, with its libvirt calls timed
 *   BENCH_CPU_PROF=DIR        write a V8 CPU profile of each measured phase, and of each agent process, to DIR
 *   BENCH_KEEP_TMP=1          keep the temporary directories (logs, SQLite files)
 *   DROVER_TEST_DATABASE_URL  PostgreSQL base URL (default postgres://postgres@127.0.0.1:5432/test)
 */

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '../..');
const resultsFile = path.join(repoRoot, 'bench', 'results', 'latest.json');

function integer(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}, not ${raw}`);
  return value;
}

function list(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  return raw ? raw.split(',').map((item) => item.trim()).filter(Boolean) : fallback;
}

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The server's version and the median time of an autocommitted one-row insert (a WAL flush) into a temporary table. */
async function postgresFacts(): Promise<{ version?: string; commitMsP50?: number }> {
  const client = new pg.Client(postgresBaseUrl);
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    await client.query('create temporary table bench_commit (n integer)');
    const times: number[] = [];
    for (let index = 0; index < 50; index++) {
      const started = performance.now();
      await client.query('insert into bench_commit values ($1)', [index]);
      times.push(performance.now() - started);
    }
    return { version: rows[0]?.server_version, commitMsP50: summarize(times).p50 };
  } catch {
    return {};
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The median time of appending one line to a file and fdatasync()ing it in the temporary directory, as the agent's journal does per command. */
async function flushMsP50(): Promise<number> {
  const directory = await temporaryDirectory('bench-fsync');
  const handle = await open(path.join(directory.path, 'journal'), 'a');
  try {
    const times: number[] = [];
    for (let index = 0; index < 50; index++) {
      const started = performance.now();
      await handle.appendFile(`{"n":${index}}\n`);
      await handle.datasync();
      times.push(performance.now() - started);
    }
    return summarize(times).p50;
  } finally {
    await handle.close();
    await directory.remove();
  }
}

async function machine() {
  const cpus = os.cpus();
  const postgres = await postgresFacts();
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench');
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres: postgres.version,
    postgresCommitMsP50: postgres.commitMsP50,
    tmpFlushMsP50: await flushMsP50(),
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedChangesOutsideBench: changed === undefined ? undefined : changed.split('\n').filter(Boolean).length,
  };
}

async function attempt(id: string, title: string, database: DatabaseKind | undefined, work: () => Promise<BenchResult>): Promise<BenchResult> {
  const busy = await settle(10, 15_000);
  if (busy !== undefined && busy >= 10) say(`\n(the machine is still ${busy}% busy with other processes after 15 s; figures below may be noisy)`);
  const began = performance.now();
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    say(`ERROR in ${id}${database ? ` (${database})` : ''}: ${message}`);
    return { id, title, database, figures: {}, targets: [], notes: [], durationMs: Math.round(performance.now() - began), error: error instanceof Error ? error.message : String(error) };
  }
}

function printTable(results: BenchResult[]): void {
  const rows: string[][] = [['benchmark', 'db', 'figure', 'measured', 'target', 'result']];
  for (const result of results) {
    const db = result.database ?? '-';
    if (result.error) rows.push([result.id, db, '-', 'ERROR', '-', 'ERROR']);
    for (const t of result.targets) rows.push([result.id, db, t.metric, formatValue(t.value, t.unit), `${t.comparison} ${formatValue(t.limit, t.unit)}`, t.met ? 'MET' : 'MISSED']);
    if (result.id === 'poll-cost' && !result.error) {
      const figures = result.figures as { runningWarmListMs: { p50: number }; definedWarmListMs: { p50: number }; runningFirstListMs: number; domains: number };
      rows.push([result.id, db, `listDomains() p50, ${figures.domains} defined`, formatValue(figures.definedWarmListMs.p50, 'ms'), '-', 'info']);
      rows.push([result.id, db, `listDomains() p50, ${figures.domains} running`, formatValue(figures.runningWarmListMs.p50, 'ms'), '-', 'info']);
    }
    if (result.id === 'follow' && !result.error) {
      type Request = { ms: { p50: number }; statements: number[] };
      const figures = result.figures as { vms: number; list: Request; follow: Request; firstFollowMs: number; crawlMs: number; crawlStatements: number; search: { name: Request; clusterPage: Request; cluster: Request } };
      const info = (metric: string, request: Request) => rows.push([result.id, db, `${metric}, ${figures.vms} VMs (${request.statements.join('/')} statements)`, formatValue(request.ms.p50, 'ms'), '-', 'info']);
      info('GET /vms p50', figures.list);
      info('GET /vms?follow=... p50', figures.follow);
      rows.push([result.id, db, `first GET /vms?follow=..., nothing rendered yet, ${figures.vms} VMs`, formatValue(figures.firstFollowMs, 'ms'), '-', 'info']);
      rows.push([result.id, db, `client-side crawl, ${figures.vms} VMs (${figures.crawlStatements} statements)`, formatValue(figures.crawlMs, 'ms'), '-', 'info']);
      info('search name= p50', figures.search.name);
      info('search cluster= max=50 p50', figures.search.clusterPage);
      info('search cluster= p50', figures.search.cluster);
    }
    if (result.id === 'migration' && result.figures.virshMigrate) {
      type Pair = { p50: number; p90: number };
      const figures = result.figures as { virshMigrate: Pair; droverMigrate?: Pair; droverMigrateFailed?: string; maintenance?: Pair; maintenanceSkipped?: string; maintenanceVms?: number };
      const pair = (summary: Pair) => `${formatValue(summary.p50, 'ms')} / ${formatValue(summary.p90, 'ms')}`;
      rows.push([result.id, db, 'virsh migrate p50 / p90', pair(figures.virshMigrate), '-', 'floor']);
      rows.push([result.id, db, 'Drover migrate p50 / p90', figures.droverMigrate ? pair(figures.droverMigrate) : '-', '-', figures.droverMigrate ? 'info' : figures.droverMigrateFailed ? 'FAILED' : 'SKIPPED']);
      if (figures.maintenance || figures.maintenanceSkipped) rows.push([result.id, db, `maintenance, ${figures.maintenanceVms ?? '?'} VMs, p50 / p90`, figures.maintenance ? pair(figures.maintenance) : '-', '-', figures.maintenance ? 'info' : 'SKIPPED']);
    }
    if (result.id === 'event-delivery' && !result.error) {
      type Latency = { subscribers: number; deliveryMs: { p50: number; p99: number; max: number } };
      type Throughput = { postedPerSecond: number; deliveredPerSecondPerSubscriber: { min: number }; deliveredPerSecondTotal: number; subscribers: number };
      const figures = result.figures as { latency: Record<'droverOne' | 'droverMany' | 'floorOne' | 'floorMany', Latency>; throughput: { droverWithoutSubscribers: { postedPerSecond: number }; drover: Throughput; bareKoa: Throughput } };
      const ms = (value: number) => formatValue(value, 'ms');
      for (const [name, side] of [['droverOne', 'Drover'], ['droverMany', 'Drover'], ['floorOne', 'floor: bare Koa'], ['floorMany', 'floor: bare Koa']] as const) {
        const latency = figures.latency[name];
        rows.push([result.id, db, `${side}, ${latency.subscribers} subscriber(s), delivery p50 / p99 / max`, `${ms(latency.deliveryMs.p50)} / ${ms(latency.deliveryMs.p99)} / ${ms(latency.deliveryMs.max)}`, '-', name.startsWith('floor') ? 'floor' : 'info']);
      }
      rows.push([result.id, db, 'Drover, events/s posted with no subscriber', String(figures.throughput.droverWithoutSubscribers.postedPerSecond), '-', 'info']);
      for (const [side, throughput] of [['Drover', figures.throughput.drover], ['floor: bare Koa', figures.throughput.bareKoa]] as const) {
        rows.push([result.id, db, `${side}, events/s posted / per subscriber / to ${throughput.subscribers} in total`, `${throughput.postedPerSecond} / ${throughput.deliveredPerSecondPerSubscriber.min} / ${throughput.deliveredPerSecondTotal}`, '-', side === 'Drover' ? 'info' : 'floor']);
      }
    }
    if (result.id === 'mixed' && !result.error) {
      type Phase = { rps: number; latencyMs: { p99: number }; byKind: Record<string, { latencyMs: { p99: number } }> };
      const figures = result.figures as { readsOnly: Phase; mixed: Phase; bareKoa: Phase };
      const info = (metric: string, measured: string) => rows.push([result.id, db, metric, measured, '-', 'info']);
      const ms = (value: number | undefined) => formatValue(value ?? Number.NaN, 'ms');
      info('rps, reads only / mixed', `${figures.readsOnly.rps} / ${figures.mixed.rps}`);
      info('p99 of every request, reads only', ms(figures.readsOnly.latencyMs.p99));
      for (const kind of Object.keys(figures.readsOnly.byKind).filter((name) => name.startsWith('list')).sort()) {
        info(`${kind} p99, reads only / under writes`, `${ms(figures.readsOnly.byKind[kind]?.latencyMs.p99)} / ${ms(figures.mixed.byKind[kind]?.latencyMs.p99)}`);
      }
      info('floor: bare Koa p99, same clients', ms(figures.bareKoa.latencyMs.p99));
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  say('');
  say(line(rows[0]!));
  say(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows.slice(1)) say(line(row));
}

async function main(): Promise<void> {
  const began = performance.now();
  const vms = integer('BENCH_VMS', 1000);
  const databases = list('BENCH_DATABASES', ['sqlite', 'postgres']) as DatabaseKind[];
  for (const database of databases) if (database !== 'sqlite' && database !== 'postgres') throw new Error(`BENCH_DATABASES: unknown database ${database}`);
  const only = new Set(list('BENCH_ONLY', ['start', 'state', 'poll', 'rps', 'follow', 'mixed', 'qemu', 'migration', 'events']));
  const followVms = list('BENCH_FOLLOW_VMS', ['1000', '10000']).map((size) => {
    const value = Number(size);
    if (!Number.isSafeInteger(value) || value < 4) throw new Error(`BENCH_FOLLOW_VMS: ${size} is not a whole number of at least 4`);
    return value;
  });
  const config = {
    vms,
    databases,
    only: [...only],
    startRounds: integer('BENCH_START_ROUNDS', 3),
    stateSamples: integer('BENCH_STATE_SAMPLES', 200),
    pollDomains: integer('BENCH_POLL_DOMAINS', 1000),
    rpsSeconds: integer('BENCH_RPS_SECONDS', 4),
    rpsRounds: integer('BENCH_RPS_ROUNDS', 3),
    connections: integer('BENCH_CONNECTIONS', 16),
    followVms,
    crawlConnections: integer('BENCH_CRAWL_CONNECTIONS', 8),
    mixedClients: integer('BENCH_MIXED_CLIENTS', 200),
    mixedSeconds: integer('BENCH_MIXED_SECONDS', 60),
    mixedVms: integer('BENCH_MIXED_VMS', 1000, 2),
    mixedThinkMs: integer('BENCH_MIXED_THINK_MS', 3000, 0),
    qemuCycles: integer('BENCH_QEMU_CYCLES', 15),
    migrations: integer('BENCH_MIGRATIONS', 10),
    migrationFillMiB: integer('BENCH_MIGRATION_FILL_MIB', 200, 2),
    maintenanceVms: integer('BENCH_MAINTENANCE_VMS', 10, 0),
    maintenanceRounds: integer('BENCH_MAINTENANCE_ROUNDS', 2, 0),
    eventChanges: integer('BENCH_EVENT_CHANGES', 300),
    eventSubscribers: integer('BENCH_EVENT_SUBSCRIBERS', 100),
    eventProducers: integer('BENCH_EVENT_PRODUCERS', 8),
    eventSeconds: integer('BENCH_EVENT_SECONDS', 10),
  };
  const host = await machine();
  say(`Drover benchmarks on ${host.nproc} CPUs (${host.cpuModel}), ${host.memoryGiB} GiB, Node ${host.node}, PostgreSQL ${host.postgres ?? 'unreachable'}, commit ${host.commit ?? '?'}${host.uncommittedChangesOutsideBench ? ` with ${host.uncommittedChangesOutsideBench} uncommitted file(s) outside bench/` : ''}`);
  say(`disk: append+fdatasync p50 ${host.tmpFlushMsP50.toFixed(2)} ms in ${os.tmpdir()}; PostgreSQL autocommit insert p50 ${host.postgresCommitMsP50?.toFixed(2) ?? '?'} ms`);
  say(`config: ${JSON.stringify(config)}`);

  const results: BenchResult[] = [];
  for (const database of databases) {
    if (only.has('start')) results.push(await attempt('start-latency', 'sync start latency', database, () => startLatency(database, { vms, rounds: config.startRounds, phaseBudgetMs: 90_000, fakeDriver: process.env.BENCH_FAKE_DRIVER === '1', inProcessAgent: process.env.BENCH_AGENT_IN_PROCESS === '1' })));
    if (only.has('state')) results.push(await attempt('state-latency', 'host-to-API state latency', database, () => stateLatency(database, { samples: config.stateSamples, budgetMs: 90_000 })));
    if (only.has('rps'))
      results.push(
        await attempt('get-throughput', 'GET /vms/{id} throughput vs bare Koa', database, () =>
          getThroughput(database, { connections: config.connections, warmupMs: 1000, durationMs: config.rpsSeconds * 1000, rounds: config.rpsRounds }),
        ),
      );
    if (only.has('follow'))
      for (const size of followVms)
        results.push(await attempt('follow', `follow, crawl and search, ${size} VMs`, database, () => followBenchmark(database, { vms: size, crawlConnections: config.crawlConnections, phaseBudgetMs: 300_000 })));
    if (only.has('mixed'))
      results.push(
        await attempt('mixed', `mixed load, ${config.mixedClients} clients`, database, () =>
          mixedLoad(database, { clients: config.mixedClients, durationMs: config.mixedSeconds * 1000, vms: config.mixedVms, warmupMs: 5_000, thinkMs: config.mixedThinkMs }),
        ),
      );
    if (only.has('qemu')) results.push(await attempt('qemu-lifecycle', 'start and stop on QEMU vs virsh', database, () => qemuLifecycle(database, { cycles: config.qemuCycles, memoryMiB: 256 })));
    if (only.has('events'))
      results.push(
        await attempt('event-delivery', 'event delivery to SSE subscribers', database, () =>
          eventDelivery(database, { changes: config.eventChanges, subscribers: config.eventSubscribers, producers: config.eventProducers, warmupMs: 2_000, durationMs: config.eventSeconds * 1000 }),
        ),
      );
    if (only.has('migration'))
      results.push(
        await attempt('migration', 'live migration on QEMU vs virsh, and maintenance', database, () =>
          migrationBenchmark(database, { migrations: config.migrations, memoryMiB: 256, fillMiB: config.migrationFillMiB, maintenanceVms: config.maintenanceVms, maintenanceRounds: config.maintenanceRounds }),
        ),
      );
  }
  if (only.has('poll')) results.push(await attempt('poll-cost', 'agent poll cost', undefined, () => pollCost({ domains: config.pollDomains, repeats: 20 })));

  const summary = {
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round((performance.now() - began) / 100) / 10,
    machine: { ...host, libvirt: await loadedLibvirtVersion().catch(() => 'unknown') },
    config,
    results,
  };
  await mkdir(path.dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(summary, null, 2)}\n`);
  printTable(results);
  const missed = results.flatMap((result) => result.targets).filter((t) => !t.met).length;
  const failed = results.filter((result) => result.error).length;
  say(`\n${results.length} benchmark runs in ${summary.durationSeconds} s; ${missed} target(s) missed; ${failed} error(s). Summary: ${path.relative(process.cwd(), resultsFile) || resultsFile}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
