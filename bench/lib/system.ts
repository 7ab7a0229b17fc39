import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { startController, type RunningController } from '../../controller/controller.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../agent/agent.js';
import type { HypervisorDriver } from '../../agent/hypervisor/driver.js';
import { Api } from '../../test/integration/harness.js';
import { basicAuthorization, KeepAliveClient } from './http.js';
import type { DatabaseKind } from './report.js';

const agentEntry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../agent/main.js');
export const benchPassword = 'bench-secret';
export const adminUser = 'admin@internal';
export const postgresBaseUrl = process.env.DROVER_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A libvirt test-driver node description declaring `memoryMiB` of memory and 4 CPUs (the same shape as the integration harness uses). */
export function hostXml(memoryMiB: number): string {
  return `<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>${memoryMiB * 1024}</memory></node>`;
}

/** Writes a test-driver node file into `directory` and returns its test:/// URI; every connection to it gets a host of its own. */
export async function privateTestHost(directory: string, name: string, memoryMiB: number): Promise<string> {
  const file = path.join(directory, `${name}.xml`);
  await writeFile(file, hostXml(memoryMiB));
  return `test://${file}`;
}

async function createPostgresDatabase(): Promise<{ url: string; name: string }> {
  const name = `drover_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(postgresBaseUrl);
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(postgresBaseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

async function dropPostgresDatabase(name: string): Promise<void> {
  const client = new pg.Client(postgresBaseUrl);
  await client.connect();
  try {
    await client.query(`drop database if exists ${name} with (force)`);
  } finally {
    await client.end();
  }
}

/**
 * Logs go to a file in the run's directory at info level, as a production
 * controller and agent would log (synchronously, like pino's stdout default),
 * without flooding the benchmark's output.
 */
function fileLogger(file: string, name: string): Logger {
  return pino({ name, level: process.env.BENCH_LOG_LEVEL ?? 'info' }, pino.destination({ dest: file, sync: true, mkdir: true }));
}

export interface AgentOptions {
  name: string;
  uri: string;
  pollIntervalMs?: number;
  /** Builds the agent's driver from its data directory; by default the agent builds a LibvirtDriver itself. */
  driver?: (dataDir: string) => HypervisorDriver;
}

export interface RunningAgent {
  agent: Agent;
  hostId: string;
}

export interface StartOptions {
  /** Runs on the fresh database before the controller opens it (e.g. to write rows the controller reads at start). */
  before?: (database: { url?: string; dataDir: string }) => Promise<void>;
  /** Makes every API response carry X-Drover-Statements, the number of SQL statements the request issued. */
  countStatements?: boolean;
}

/**
 * One in-process controller on a fresh database (a SQLite file in a temporary
 * directory, or a PostgreSQL database created for it and dropped afterwards),
 * with in-process agents added on demand.
 */
export class BenchSystem {
  readonly agents: Agent[] = [];
  readonly agentProcesses: ChildProcess[] = [];
  /** The process ids of the agents started by addAgentProcess, by name. */
  readonly agentPids = new Map<string, number>();
  readonly api: Api;
  readonly client: KeepAliveClient;

  private constructor(
    readonly directory: string,
    readonly database: DatabaseKind,
    readonly controller: RunningController,
    private readonly postgresName: string | undefined,
  ) {
    const origin = new URL(controller.apiUrl).origin;
    const authorization = basicAuthorization(adminUser, benchPassword);
    this.api = new Api(origin, authorization);
    this.client = new KeepAliveClient(origin, authorization);
  }

  static async start(database: DatabaseKind, label: string, options: StartOptions = {}): Promise<BenchSystem> {
    const directory = await mkdtemp(path.join(os.tmpdir(), `drover-bench-${label}-`));
    let postgres: { url: string; name: string } | undefined;
    try {
      if (database === 'postgres') postgres = await createPostgresDatabase();
      const dataDir = path.join(directory, 'controller');
      if (options.before) await options.before({ url: postgres?.url, dataDir });
      const controller = await startController(
        {
          listen: '127.0.0.1:0',
          grpcListen: '127.0.0.1:0',
          dataDir,
          databaseUrl: postgres?.url,
          adminPassword: benchPassword,
          heartbeatIntervalMs: 5000,
          poolReconcileIntervalMs: 2000,
        tokenLifetimeMs: 36_000_000,
          countStatements: options.countStatements,
        },
        fileLogger(path.join(directory, 'controller.log'), 'drover-controller'),
      );
      return new BenchSystem(directory, database, controller, postgres?.name);
    } catch (error) {
      if (postgres) await dropPostgresDatabase(postgres.name).catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  get apiRoot(): string {
    return this.controller.apiUrl;
  }

  /** The API path of a resource, e.g. vmPath(id) = /ovirt-engine/api/vms/ID. */
  path(relative: string): string {
    return `${new URL(this.controller.apiUrl).pathname}${relative}`;
  }

  async addAgent(options: AgentOptions): Promise<RunningAgent> {
    const dataDir = path.join(this.directory, 'agents', options.name);
    const agent = new Agent(
      {
        controllerAddress: this.controller.grpcAddress,
        libvirtUri: options.uri,
        dataDir,
        hostname: options.name,
        cluster: '',
        pollIntervalMs: options.pollIntervalMs ?? 1000,
        storageMountRoot: '/nonexistent',
        storageReportIntervalMs: 60_000,
        shutdownTimeoutMs: 60_000,
      },
      { driver: options.driver?.(dataDir), logger: fileLogger(path.join(this.directory, `agent-${options.name}.log`), 'drover-agent') },
    );
    this.agents.push(agent);
    await agent.start();
    await agent.waitUntilConnected(15_000);
    const hostId = agent.hostFacts!.hostId;
    return { agent, hostId };
  }

  /** Runs an agent as its own process, as `npm start` runs the embedded one, and waits until its host is up. */
  async addAgentProcess(name: string, uri: string): Promise<void> {
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=agent-${name}-${Date.now()}.cpuprofile`] : [];
    const child = spawn(process.execPath, [...profile, agentEntry], {
      env: {
        ...process.env,
        DROVER_CONTROLLER: this.controller.grpcAddress,
        DROVER_LIBVIRT_URI: uri,
        DROVER_AGENT_DATA_DIR: path.join(this.directory, 'agents', name),
        DROVER_HOST_NAME: name,
        DROVER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.agentProcesses.push(child);
    if (child.pid !== undefined) this.agentPids.set(name, child.pid);
    const deadline = Date.now() + 15_000;
    while (!this.controller.services.hosts.list().some((host) => host.name === name && host.status === 'up')) {
      if (Date.now() > deadline) throw new Error(`agent ${name} did not register`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    this.client.close();
    for (const child of this.agentProcesses.splice(0)) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    for (const agent of this.agents.splice(0)) await agent.stop().catch(() => undefined);
    await this.controller.stop().catch(() => undefined);
    if (this.postgresName) await dropPostgresDatabase(this.postgresName).catch(() => undefined);
    if (!process.env.BENCH_KEEP_TMP) await rm(this.directory, { recursive: true, force: true });
  }
}
