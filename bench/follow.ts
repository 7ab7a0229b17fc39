import { fork } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Fleet } from '../test/support/fleet.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { describeTarget, say, target, type BenchResult, type Target } from './lib/report.js';
import { describeSummary, formatMs, round, summarize, type Summary } from './lib/stats.js';
import { profilePhase } from './lib/profile.js';
import { settle } from './lib/machine.js';

/**
 * Benchmark 4: `GET /vms?follow=disk_attachments.disk,nics` on a fleet of VMs
 * (each with two attached disks and two NICs) against `GET /vms` without
 * follow, against the client-side crawl that follow replaces, and search
 * latency on an indexed and on a related field; with the SQL statements each
 * request issued (X-Drover-Statements).
 *
 * The requests are sent from a child process (this same module, forked with
 * `workerFlag`), so that reading, concatenating and parsing responses of up to
 * tens of megabytes, and the crawl's 40,000 small requests, do not run on the
 * server's thread. The module's static imports are kept light for that reason:
 * the controller side (BenchSystem, writeFleet) is imported only when the
 * benchmark itself runs.
 */

export interface FollowOptions {
  /** VMs in the fleet. */
  vms: number;
  /** Keep-alive connections of the client-side crawl. */
  crawlConnections: number;
  /** Upper bound on each measured phase (lists, one crawl, searches); a phase stops taking new work once it is over. */
  phaseBudgetMs: number;
}

const workerFlag = '--follow-worker';
const followPath = '/vms?follow=disk_attachments.disk,nics';

// ---------------------------------------------------------------------------
// The client (child process)

/** One measured request: times from just before the request is written. */
interface Sample {
  status: number;
  /** To the last byte of the body. */
  ms: number;
  /** To the response's status line and headers. */
  headersMs: number;
  bytes: number;
  /** X-Drover-Statements, or -1 when the response had none. */
  statements: number;
  /** X-Total-Count, or -1. */
  total: number;
}

interface Fetched extends Sample {
  body: Buffer;
}

interface SequenceJob {
  kind: 'sequence';
  origin: string;
  authorization: string;
  /** The CA certificate (PEM) the client trusts over HTTPS. */
  ca?: string;
  /** Requests sent in this order in every round, over one keep-alive connection. */
  requests: { label: string; path: string; expectVms: number; expectDevices: boolean }[];
  warmupRounds: number;
  rounds: number;
  budgetMs: number;
}

interface CrawlJob {
  kind: 'crawl';
  origin: string;
  authorization: string;
  /** The CA certificate (PEM) the client trusts over HTTPS. */
  ca?: string;
  apiPath: string;
  connections: number;
  /** VMs crawled before the measured crawl, to warm the connections and the server's paths. */
  warmupVms: number;
  expectVms: number;
  budgetMs: number;
}

interface SequenceOutcome {
  kind: 'sequence';
  samples: Record<string, Sample[]>;
  /** The first response to each request, before any was measured: for follow, the one that renders every embedded object. */
  first: Record<string, Sample>;
  connectionsOpened: number;
  complete: boolean;
}

interface CrawlOutcome {
  kind: 'crawl';
  wallMs: number;
  requests: number;
  byKind: { vms: number; attachments: number; disks: number; nics: number };
  found: { vms: number; attachments: number; disks: number; nics: number };
  statements: number;
  statementsByKind: { vms: number; attachments: number; disks: number; nics: number };
  /** Requests whose response had no X-Drover-Statements header. */
  uncounted: number;
  bytes: number;
  non200: number;
  latencyMs: Summary;
  connectionsOpened: number;
  clientCpuPercent: number;
  complete: boolean;
}

type WorkerJob = SequenceJob | CrawlJob;
type WorkerOutcome = SequenceOutcome | CrawlOutcome;

class Client {
  readonly agent: http.Agent;
  connectionsOpened = 0;
  private readonly url: URL;
  private readonly transport: typeof http | typeof https;

  constructor(
    origin: string,
    private readonly authorization: string,
    connections: number,
    ca?: string,
  ) {
    this.url = new URL(origin);
    const options = { keepAlive: true, maxSockets: connections, keepAliveMsecs: 10_000 };
    const secure = this.url.protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = secure ? new https.Agent({ ...options, ca }) : new http.Agent(options);
  }

  get(path: string): Promise<Fetched> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const request = this.transport.request(
        { host: this.url.hostname, port: this.url.port, path, method: 'GET', agent: this.agent, headers: { Authorization: this.authorization, Accept: 'application/json' } },
        (response) => {
          const headersMs = performance.now() - started;
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const ms = performance.now() - started;
            const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            const header = (name: string) => {
              const value = response.headers[name];
              return typeof value === 'string' && value !== '' ? Number(value) : -1;
            };
            resolve({ status: response.statusCode ?? 0, ms, headersMs, bytes: body.length, statements: header('x-drover-statements'), total: header('x-total-count'), body });
          });
        },
      );
      request.on('socket', () => {
        if (!request.reusedSocket) this.connectionsOpened++;
      });
      request.on('error', reject);
      request.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function strip({ body: _body, ...sample }: Fetched): Sample {
  return sample;
}

type Json = Record<string, unknown>;

function items(document: unknown, key: string): Json[] {
  const value = (document as Json | undefined)?.[key];
  return Array.isArray(value) ? (value as Json[]) : [];
}

/** Checks a list of VMs: its length and, for follow, that every VM carries its two attachments with their disks and its two NICs. */
function checkVms(label: string, response: Fetched, expectVms: number, expectDevices: boolean): void {
  if (response.status !== 200) throw new Error(`${label} answered ${response.status}: ${response.body.toString('utf8', 0, 300)}`);
  const vms = items(JSON.parse(response.body.toString('utf8')), 'vm');
  if (vms.length !== expectVms) throw new Error(`${label} returned ${vms.length} VMs, expected ${expectVms}`);
  if (!expectDevices) return;
  for (const vm of vms) {
    const attachments = items(vm.disk_attachments, 'disk_attachment');
    const nics = items(vm.nics, 'nic');
    if (attachments.length !== 2 || attachments.some((attachment) => typeof (attachment.disk as Json | undefined)?.name !== 'string') || nics.length !== 2) {
      throw new Error(`${label}: VM ${String(vm.name)} came with ${attachments.length} attachments (disks embedded: ${attachments.map((a) => typeof (a.disk as Json | undefined)?.name === 'string').join(',')}) and ${nics.length} NICs`);
    }
  }
}

async function runSequence(job: SequenceJob): Promise<SequenceOutcome> {
  const client = new Client(job.origin, job.authorization, 1, job.ca);
  const samples: Record<string, Sample[]> = Object.fromEntries(job.requests.map((request) => [request.label, []]));
  const first: Record<string, Sample> = {};
  try {
    // Warm-up rounds, unmeasured; the first one also checks each response's content.
    for (let roundIndex = 0; roundIndex < job.warmupRounds; roundIndex++) {
      for (const request of job.requests) {
        const response = await client.get(request.path);
        if (roundIndex === 0) {
          checkVms(request.label, response, request.expectVms, request.expectDevices);
          first[request.label] = strip(response);
        }
      }
    }
    const deadline = performance.now() + job.budgetMs;
    let complete = true;
    for (let roundIndex = 0; roundIndex < job.rounds; roundIndex++) {
      if (performance.now() >= deadline) {
        complete = false;
        break;
      }
      for (const request of job.requests) samples[request.label]!.push(strip(await client.get(request.path)));
    }
    return { kind: 'sequence', samples, first, connectionsOpened: client.connectionsOpened, complete };
  } finally {
    client.close();
  }
}

/**
 * What a client without follow does to get the same data: the list of VMs,
 * then per VM its disk attachments, each attachment's disk, and its NICs,
 * parsing every response. `connections` workers each take the next VM and
 * send its requests in turn, so that `connections` requests are in flight at
 * any time.
 */
async function crawl(client: Client, job: CrawlJob, vmLimit: number, deadline: number) {
  const byKind = { vms: 0, attachments: 0, disks: 0, nics: 0 };
  const found = { vms: 0, attachments: 0, disks: 0, nics: 0 };
  const statementsByKind = { vms: 0, attachments: 0, disks: 0, nics: 0 };
  const latencies: number[] = [];
  let statements = 0;
  let uncounted = 0;
  let bytes = 0;
  let non200 = 0;
  let complete = true;
  const get = async (kind: keyof typeof byKind, path: string): Promise<unknown> => {
    const response = await client.get(path);
    byKind[kind]++;
    latencies.push(response.ms);
    bytes += response.bytes;
    if (response.statements >= 0) {
      statements += response.statements;
      statementsByKind[kind] += response.statements;
    } else uncounted++;
    if (response.status !== 200) {
      non200++;
      return undefined;
    }
    return JSON.parse(response.body.toString('utf8'));
  };
  const started = performance.now();
  const vmIds = items(await get('vms', `${job.apiPath}/vms`), 'vm')
    .map((vm) => vm.id as string)
    .slice(0, vmLimit);
  found.vms = vmIds.length;
  let next = 0;
  const worker = async () => {
    while (next < vmIds.length) {
      if (performance.now() >= deadline) {
        complete = false;
        return;
      }
      const vmId = vmIds[next++]!;
      const attachments = items(await get('attachments', `${job.apiPath}/vms/${vmId}/diskattachments`), 'disk_attachment');
      found.attachments += attachments.length;
      for (const attachment of attachments) {
        const disk = (await get('disks', `${job.apiPath}/disks/${(attachment.disk as Json).id as string}`)) as Json | undefined;
        if (typeof disk?.name === 'string') found.disks++;
      }
      const nics = items(await get('nics', `${job.apiPath}/vms/${vmId}/nics`), 'nic');
      found.nics += nics.length;
    }
  };
  await Promise.all(Array.from({ length: job.connections }, worker));
  const wallMs = performance.now() - started;
  const requests = byKind.vms + byKind.attachments + byKind.disks + byKind.nics;
  return { wallMs, requests, byKind, found, statements, statementsByKind, uncounted, bytes, non200, latencyMs: summarize(latencies), complete };
}

async function runCrawl(job: CrawlJob): Promise<CrawlOutcome> {
  const client = new Client(job.origin, job.authorization, job.connections, job.ca);
  try {
    await crawl(client, job, job.warmupVms, performance.now() + job.budgetMs);
    const cpuBefore = process.cpuUsage();
    const measured = await crawl(client, job, Number.POSITIVE_INFINITY, performance.now() + job.budgetMs);
    const cpu = process.cpuUsage(cpuBefore);
    if (measured.complete && measured.found.vms !== job.expectVms) throw new Error(`the crawl found ${measured.found.vms} VMs, expected ${job.expectVms}`);
    return { kind: 'crawl', ...measured, connectionsOpened: client.connectionsOpened, clientCpuPercent: Math.round((100 * (cpu.user + cpu.system)) / 1000 / measured.wallMs) };
  } finally {
    client.close();
  }
}

if (process.argv.includes(workerFlag) && process.send) {
  process.once('message', (job: WorkerJob) => {
    (job.kind === 'sequence' ? runSequence(job) : runCrawl(job))
      .then((outcome) => process.send!({ type: 'result', outcome }, () => process.exit(0)))
      .catch((error: unknown) => process.send!({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)));
  });
}

// ---------------------------------------------------------------------------
// The benchmark (the bench process, where the controller runs)

/** Runs one job in a forked copy of this module; returns its outcome and this (the server's) process's CPU during the job, in % of one core. */
function inWorker<T extends WorkerOutcome>(job: WorkerJob): Promise<{ outcome: T; serverCpuPercent: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [workerFlag], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let settled = false;
    const finish = (error: Error | undefined, outcome?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      const cpu = process.cpuUsage(cpuBefore);
      if (error) reject(error);
      else resolve({ outcome: outcome!, serverCpuPercent: Math.round((100 * (cpu.user + cpu.system)) / 1000 / (performance.now() - started)) });
    };
    // The job's own budget bounds its measured part; warm-up and checks get as long again plus a minute.
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`the ${job.kind} worker did not finish in time`));
    }, 2 * job.budgetMs + 60_000);
    child.on('message', (message: { type: string; outcome?: T; message?: string }) => {
      if (message.type === 'result' && message.outcome) finish(undefined, message.outcome);
      else finish(new Error(`${job.kind} worker: ${message.message ?? 'no result'}`));
    });
    child.on('exit', (code) => finish(new Error(`the ${job.kind} worker exited with ${code} before reporting`)));
    child.send(job);
  });
}

interface RequestFigures {
  path: string;
  ms: Summary;
  headersMs: Summary;
  bytes: number;
  /** X-Drover-Statements of the measured requests (every value seen, in order of first appearance). */
  statements: number[];
  totalCount: number;
  non200: number;
}

function requestFigures(path: string, samples: Sample[]): RequestFigures {
  return {
    path,
    ms: summarize(samples.map((sample) => sample.ms)),
    headersMs: summarize(samples.map((sample) => sample.headersMs)),
    bytes: samples[0]?.bytes ?? 0,
    statements: [...new Set(samples.map((sample) => sample.statements))],
    totalCount: samples[0]?.total ?? -1,
    non200: samples.filter((sample) => sample.status !== 200).length,
  };
}

function describeRequest(label: string, figures: RequestFigures): string {
  const megabytes = figures.bytes >= 1e6 ? `${(figures.bytes / 1e6).toFixed(2)} MB` : `${(figures.bytes / 1e3).toFixed(1)} kB`;
  return `${label}: ${describeSummary(figures.ms)}; headers after p50 ${formatMs(figures.headersMs.p50)}; ${megabytes}; ${figures.statements.join('/')} statement(s); X-Total-Count ${figures.totalCount}${figures.non200 ? `; ${figures.non200} non-200` : ''}`;
}

/** Repetitions of the interleaved GET /vms and follow requests: fewer for the larger fleet, whose follow response is tens of megabytes. */
function listRounds(vms: number): number {
  return vms <= 2000 ? 15 : 7;
}

/** Measured crawls: three for small fleets (the best counts), one for large ones (a 10,000-VM crawl is 40,001 requests). */
function crawlRounds(vms: number): number {
  return vms <= 2000 ? 3 : 1;
}

export async function followBenchmark(database: DatabaseKind, options: FollowOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = `GET /vms?follow=disk_attachments.disk,nics, ${options.vms} VMs`;
  say(`\n== [4] ${title} (${database})`);
  const [{ startBenchSystem }, { writeFleet }, { default: pg }] = await Promise.all([import('./lib/bench-system.js'), import('../test/support/fleet.js'), import('pg')]);
  let fleet: Fleet | undefined;
  let fleetWriteMs = 0;
  let analyzeMs: number | undefined;
  const startedAt = performance.now();
  const system = await startBenchSystem(database, `follow-${database}`, {
    controller: { countStatements: true },
    before: async (location) => {
      const writing = performance.now();
      fleet = await writeFleet(location, options.vms, { prefix: 'fleet', clusters: 4 });
      fleetWriteMs = performance.now() - writing;
      if (location.url) {
        // PostgreSQL's autovacuum would analyze tables this size within a minute or so; the benchmark
        // does it at once, so that its plans are those of a database that has been running a while
        // rather than depend on when autovacuum happens to wake up during the run.
        const analyzing = performance.now();
        const client = new pg.Client(location.url);
        await client.connect();
        try {
          await client.query('analyze');
        } finally {
          await client.end();
        }
        analyzeMs = performance.now() - analyzing;
      }
    },
  });
  const controllerStartMs = performance.now() - startedAt - fleetWriteMs - (analyzeMs ?? 0);
  try {
    if (!fleet) throw new Error('the fleet was not written');
    say(`fleet of ${options.vms} VMs (${2 * options.vms} disks, ${2 * options.vms} NICs, 4 clusters) written in ${formatMs(fleetWriteMs)}${analyzeMs === undefined ? '' : `, analyzed in ${formatMs(analyzeMs)}`}; controller started on it in ${formatMs(controllerStartMs)}`);
    const origin = new URL(system.apiRoot).origin;
    const apiPath = system.path('');
    const authorization = system.client.authorization;
    const ca = system.client.ca;
    const notes: string[] = [];

    // 1 and 2: GET /vms against GET /vms?follow=..., interleaved over one connection.
    await settle();
    const rounds = listRounds(options.vms);
    const lists = await profilePhase(`follow-${database}-${options.vms}-lists`, () =>
      inWorker<SequenceOutcome>({
        kind: 'sequence',
        origin,
        authorization,
        ca,
        requests: [
          { label: 'list', path: `${apiPath}/vms`, expectVms: options.vms, expectDevices: false },
          { label: 'follow', path: `${apiPath}${followPath}`, expectVms: options.vms, expectDevices: true },
        ],
        warmupRounds: 2,
        rounds,
        budgetMs: options.phaseBudgetMs,
      }),
    );
    const list = requestFigures('/vms', lists.outcome.samples.list!);
    const follow = requestFigures(followPath, lists.outcome.samples.follow!);
    if (!lists.outcome.complete) notes.push(`GET /vms and follow: stopped after ${list.ms.count} of ${rounds} rounds at the ${options.phaseBudgetMs / 1000} s budget`);
    say(describeRequest('GET /vms                 ', list));
    say(describeRequest('GET /vms?follow=...      ', follow));
    const ratio = round(follow.ms.p50 / list.ms.p50, 2);
    const firstFollowMs = round(lists.outcome.first.follow!.ms, 1);
    say(`first GET /vms?follow=... after the controller started (every embedded object rendered, none reused): ${formatMs(firstFollowMs)}, ${(firstFollowMs / list.ms.p50).toFixed(2)}× the p50 without follow`);
    say(`follow / no follow: ${ratio.toFixed(2)} at p50 (${(follow.ms.min / list.ms.min).toFixed(2)} at min); ${(follow.bytes / list.bytes).toFixed(2)}× the bytes; ${lists.outcome.connectionsOpened} connection(s) opened; server process CPU ${lists.serverCpuPercent}% of one core`);

    // 3: the client-side crawl, 8 connections.
    const crawls: (CrawlOutcome & { serverCpuPercent: number })[] = [];
    for (let index = 0; index < crawlRounds(options.vms); index++) {
      await settle();
      const result = await profilePhase(`follow-${database}-${options.vms}-crawl${index + 1}`, () =>
        inWorker<CrawlOutcome>({ kind: 'crawl', origin, authorization, ca, apiPath, connections: options.crawlConnections, warmupVms: Math.min(100, options.vms), expectVms: options.vms, budgetMs: options.phaseBudgetMs }),
      );
      const outcome = { ...result.outcome, serverCpuPercent: result.serverCpuPercent };
      crawls.push(outcome);
      say(
        `crawl ${index + 1}: ${outcome.requests} requests (${outcome.byKind.vms} list, ${outcome.byKind.attachments} attachments, ${outcome.byKind.disks} disks, ${outcome.byKind.nics} NICs) in ${formatMs(outcome.wallMs)}${outcome.complete ? '' : ' (STOPPED at the budget)'}, ${Math.round((outcome.requests / outcome.wallMs) * 1000)} rps over ${outcome.connectionsOpened} connection(s); ${outcome.statements} statements (list ${outcome.statementsByKind.vms}, attachments ${outcome.statementsByKind.attachments}, disks ${outcome.statementsByKind.disks}, NICs ${outcome.statementsByKind.nics})${outcome.uncounted ? ` (${outcome.uncounted} responses uncounted)` : ''}; ${(outcome.bytes / 1e6).toFixed(1)} MB; per request ${describeSummary(outcome.latencyMs)}; CPU (% of one core): server process ${outcome.serverCpuPercent}, client ${outcome.clientCpuPercent}${outcome.non200 ? `; ${outcome.non200} non-200` : ''}`,
      );
      if (outcome.found.attachments !== 2 * options.vms || outcome.found.disks !== 2 * options.vms || outcome.found.nics !== 2 * options.vms) {
        if (outcome.complete) throw new Error(`the crawl found ${outcome.found.attachments} attachments, ${outcome.found.disks} disks and ${outcome.found.nics} NICs, expected ${2 * options.vms} of each`);
      }
    }
    const bestCrawl = crawls.reduce((best, crawlOutcome) => (crawlOutcome.wallMs < best.wallMs ? crawlOutcome : best));
    if (!bestCrawl.complete) notes.push(`the crawl stopped at the ${options.phaseBudgetMs / 1000} s budget after ${bestCrawl.requests} requests; the speedup is a lower bound`);
    const speedup = round(bestCrawl.wallMs / follow.ms.p50, 1);
    say(`crawl (best of ${crawls.length}) / follow p50: ${speedup.toFixed(1)}×; statements: crawl ${bestCrawl.statements}, follow ${follow.statements.join('/')}`);

    // 4: searches, interleaved over one connection.
    await settle();
    const width = String(options.vms).length;
    const name = `fleet-${String(Math.floor(options.vms / 2)).padStart(width, '0')}`;
    const clusterResponse = await system.client.request('GET', system.path(`/clusters/${fleet.clusterIds[0]}`), { accept: 'json' });
    if (clusterResponse.status !== 200) throw new Error(`GET /clusters/${fleet.clusterIds[0]} answered ${clusterResponse.status}`);
    const clusterName = (JSON.parse(clusterResponse.body) as { name: string }).name;
    const clusterVms = Math.ceil(options.vms / 4);
    const searchPaths = {
      name: `/vms?search=${encodeURIComponent(`name=${name}`)}`,
      clusterPage: `/vms?search=${encodeURIComponent(`cluster=${clusterName}`)}&max=50`,
      cluster: `/vms?search=${encodeURIComponent(`cluster=${clusterName}`)}`,
    };
    const searchRounds = options.vms <= 2000 ? 40 : 20;
    const searches = await profilePhase(`follow-${database}-${options.vms}-search`, () =>
      inWorker<SequenceOutcome>({
        kind: 'sequence',
        origin,
        authorization,
        ca,
        requests: [
          { label: 'name', path: `${apiPath}${searchPaths.name}`, expectVms: 1, expectDevices: false },
          { label: 'clusterPage', path: `${apiPath}${searchPaths.clusterPage}`, expectVms: Math.min(50, clusterVms), expectDevices: false },
          { label: 'cluster', path: `${apiPath}${searchPaths.cluster}`, expectVms: clusterVms, expectDevices: false },
        ],
        warmupRounds: 3,
        rounds: searchRounds,
        budgetMs: options.phaseBudgetMs,
      }),
    );
    const search = {
      name: requestFigures(searchPaths.name, searches.outcome.samples.name!),
      clusterPage: requestFigures(searchPaths.clusterPage, searches.outcome.samples.clusterPage!),
      cluster: requestFigures(searchPaths.cluster, searches.outcome.samples.cluster!),
    };
    if (!searches.outcome.complete) notes.push(`searches: stopped after ${search.name.ms.count} of ${searchRounds} rounds at the budget`);
    say(describeRequest(`search name=${name} (indexed)     `, search.name));
    say(describeRequest(`search cluster=... max=50 (related)`, search.clusterPage));
    say(describeRequest(`search cluster=... (related, all)  `, search.cluster));

    const targets: Target[] = [target(`follow / no-follow GET /vms time at p50, ${options.vms} VMs`, ratio, '<=', 3, ''), target(`client-side crawl / follow time, ${options.vms} VMs`, speedup, '>=', 20, '')];
    const broken = list.non200 + follow.non200 + crawls.reduce((sum, crawlOutcome) => sum + crawlOutcome.non200, 0) + search.name.non200 + search.clusterPage.non200 + search.cluster.non200;
    if (broken > 0) targets.push(target(`non-200 responses, ${options.vms} VMs`, broken, '<=', 0, ''));
    for (const t of targets) say(describeTarget(t));
    return {
      id: 'follow',
      title,
      database,
      figures: {
        vms: options.vms,
        fleetWriteMs: round(fleetWriteMs, 0),
        analyzeMs: analyzeMs === undefined ? undefined : round(analyzeMs, 0),
        controllerStartMs: round(controllerStartMs, 0),
        rounds,
        list,
        follow,
        ratio,
        ratioAtMin: round(follow.ms.min / list.ms.min, 2),
        firstFollowMs,
        listsServerCpuPercent: lists.serverCpuPercent,
        crawlConnections: options.crawlConnections,
        crawls,
        crawlMs: round(bestCrawl.wallMs, 0),
        crawlStatements: bestCrawl.statements,
        speedup,
        search: { ...search, nameSearched: name, clusterSearched: clusterName, clusterVms },
      },
      targets,
      notes,
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    await system.close();
  }
}
