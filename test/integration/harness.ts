import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { XMLParser } from 'fast-xml-parser';
import { Hypervisor } from '@unraid/libvirt';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const controllerEntry = path.join(distRoot, 'controller/main.js');
export const agentEntry = path.join(distRoot, 'agent/main.js');

export type DatabaseKind = 'sqlite' | 'postgres';
export const adminPassword = 'integration-secret';
export const heartbeatIntervalMs = 300;
export const postgresBaseUrl = process.env.DROVER_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A new, empty PostgreSQL database on the test server: its URL, and what drops it. */
export async function createPostgresDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client(postgresBaseUrl);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const base = new URL(postgresBaseUrl);
  base.pathname = `/${name}`;
  return { url: base.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(25);
  }
}

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (name, jpath) => name === 'link' || /^(vms\.vm|hosts\.host|tasks\.task|clusters\.cluster|data_centers\.data_center)$/.test(String(jpath)) });

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed: JSON as is; XML as an object keyed by the document element. */
  body: any;
}

export interface RequestOptions {
  body?: string | object;
  type?: 'xml' | 'json';
  accept?: 'xml' | 'json' | 'none';
  headers?: Record<string, string>;
  auth?: string | null;
}

/** A thin HTTP client for the Drover API, with Basic credentials by default. */
export class Api {
  constructor(
    readonly origin: string,
    private readonly authorization = `Basic ${Buffer.from(`admin@internal:${adminPassword}`).toString('base64')}`,
  ) {}

  get root(): string {
    return `${this.origin}/ovirt-engine/api`;
  }

  async request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : pathOrUrl.startsWith('/ovirt-engine') || pathOrUrl.startsWith('/api') ? `${this.origin}${pathOrUrl}` : `${this.root}${pathOrUrl}`;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const auth = options.auth === undefined ? this.authorization : options.auth;
    if (auth) headers.Authorization = auth;
    if (options.accept === 'json') headers.Accept = 'application/json';
    if (options.accept === 'xml') headers.Accept = 'application/xml';
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['Content-Type'] ??= options.type === 'json' || typeof options.body === 'object' ? 'application/json' : 'application/xml';
    }
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('json');
    let parsed: unknown;
    try {
      parsed = text ? (isJson ? JSON.parse(text) : xmlParser.parse(text)) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, options);
  }
  post(path: string, body?: string | object, options?: RequestOptions) {
    return this.request('POST', path, { ...options, body });
  }
  put(path: string, body: string | object, options?: RequestOptions) {
    return this.request('PUT', path, { ...options, body });
  }
  delete(path: string, options?: RequestOptions) {
    return this.request('DELETE', path, options);
  }

  /** Creates a VM through the XML API and returns its id. */
  async createVm(name: string, memoryMiB = 256, extra = ''): Promise<string> {
    const response = await this.post('/vms', `<vm><name>${name}</name><memory>${memoryMiB * 1024 * 1024}</memory><cluster><name>Default</name></cluster>${extra}</vm>`);
    if (response.status !== 201) throw new Error(`creating VM ${name} answered ${response.status}: ${response.text}`);
    return response.body.vm.id as string;
  }

  async vm(id: string): Promise<any> {
    const response = await this.get(`/vms/${id}`, { accept: 'json' });
    if (response.status !== 200) throw new Error(`GET vm ${id} answered ${response.status}: ${response.text}`);
    return response.body;
  }

  async vmStatus(id: string): Promise<string> {
    return (await this.vm(id)).status;
  }

  async hosts(): Promise<any[]> {
    return (await this.get('/hosts', { accept: 'json' })).body.host ?? [];
  }

  /** Waits for a task to end (up to 30 s) and returns it as JSON. */
  async task(id: string): Promise<any> {
    const response = await this.get(`/tasks/${id}?wait=30`, { accept: 'json' });
    if (response.status !== 200) throw new Error(`GET task ${id} answered ${response.status}: ${response.text}`);
    return response.body;
  }

  async action(id: string, action: string, options: { async?: boolean } = {}): Promise<ApiResponse> {
    return this.post(`/vms/${id}/${action}`, options.async ? '<action><async>true</async></action>' : '<action/>');
  }
}

/** A libvirt daemon of its own whose test driver outlives any agent connected to it. */
export class LibvirtDaemon {
  private process?: ChildProcess;
  private keeper?: Hypervisor;

  constructor(readonly directory: string) {}

  get uri(): string {
    return `test+unix:///default?socket=${this.directory}/libvirt-sock`;
  }

  async start(): Promise<void> {
    await mkdir(path.join(this.directory, 'drivers'), { recursive: true });
    await writeFile(path.join(this.directory, 'libvirtd.conf'), `unix_sock_dir = "${this.directory}"\nunix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n`);
    this.process = spawn('/usr/sbin/libvirtd', ['--config', path.join(this.directory, 'libvirtd.conf'), '--pid-file', path.join(this.directory, 'pid')], {
      cwd: this.directory,
      env: { ...process.env, LIBVIRT_DRIVER_DIR: path.join(this.directory, 'drivers') },
      stdio: 'ignore',
    });
    this.keeper = await eventually(async () => {
      const connection = new Hypervisor({ uri: this.uri });
      await connection.connectOpen();
      return connection;
    }, 'libvirtd to accept connections', 10_000);
  }

  /** A connection to the daemon's host, for checking what the hypervisor says. */
  get hypervisor(): Hypervisor {
    if (!this.keeper) throw new Error('the daemon is not running');
    return this.keeper;
  }

  async stop(): Promise<void> {
    await this.keeper?.connectClose().catch(() => undefined);
    this.process?.kill('SIGTERM');
  }
}

export interface HostOptions {
  memoryMiB?: number;
  /** Run the host's hypervisor in a libvirt daemon so that it survives agent restarts. */
  daemon?: boolean;
}

interface HostRecord {
  name: string;
  uri: string;
  dataDir: string;
  daemon?: LibvirtDaemon;
  process?: ChildProcess;
  output: string[];
}

function hostXml(memoryMiB: number): string {
  return `<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads><active>4</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>${memoryMiB * 1024}</memory></node>`;
}

/** A real controller process and real agent processes on a real database, in a temporary directory. */
export class TestSystem {
  api!: Api;
  apiPort = 0;
  grpcPort = 0;
  controller?: ChildProcess;
  controllerOutput: string[] = [];
  readonly hosts = new Map<string, HostRecord>();

  private constructor(
    readonly directory: string,
    readonly database: DatabaseKind,
    private readonly databaseUrl: string | undefined,
    private readonly dropDatabase: (() => Promise<void>) | undefined,
    readonly heartbeatMs: number,
  ) {}

  static async start(database: DatabaseKind, hosts: Record<string, HostOptions> = {}, options: { heartbeatMs?: number } = {}): Promise<TestSystem> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'drover-it-'));
    const postgres = database === 'postgres' ? await createPostgresDatabase('drover_it') : undefined;
    const system = new TestSystem(directory, database, postgres?.url, postgres?.drop, options.heartbeatMs ?? heartbeatIntervalMs);
    for (let attempt = 1; ; attempt++) {
      system.apiPort = await freePort();
      system.grpcPort = await freePort();
      system.api = new Api(`http://127.0.0.1:${system.apiPort}`);
      try {
        await system.startController();
        break;
      } catch (error) {
        if (attempt >= 3 || !/EADDRINUSE/.test(String(error))) throw error;
      }
    }
    for (const [hostName, options] of Object.entries(hosts)) await system.addHost(hostName, options);
    return system;
  }

  async startController(): Promise<void> {
    this.controllerOutput = [];
    this.controller = spawn(process.execPath, [controllerEntry], {
      env: {
        ...process.env,
        DROVER_LISTEN: `127.0.0.1:${this.apiPort}`,
        DROVER_GRPC_LISTEN: `127.0.0.1:${this.grpcPort}`,
        DROVER_DATA_DIR: path.join(this.directory, 'controller'),
        DROVER_DATABASE_URL: this.databaseUrl ?? '',
        DROVER_ADMIN_PASSWORD: adminPassword,
        DROVER_HEARTBEAT_INTERVAL_MS: String(this.heartbeatMs),
        DROVER_POOL_RECONCILE_INTERVAL_MS: '200',
        DROVER_COUNT_STATEMENTS: '1',
        DROVER_MAX_EMBEDDED_OBJECTS: '10000',
        DROVER_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const capture = (chunk: Buffer) => this.controllerOutput.push(chunk.toString());
    this.controller.stdout!.on('data', capture);
    this.controller.stderr!.on('data', capture);
    // Only this controller's own word that it listens tells that the port is its own: a port found free
    // can be taken by a concurrent test's controller before this one binds it.
    const controller = this.controller;
    const deadline = Date.now() + 20_000;
    while (!this.controllerOutput.join('').includes('"msg":"controller started"')) {
      if (controller.exitCode !== null || controller.signalCode !== null) throw new Error(`the controller exited before it listened:\n${this.controllerOutput.join('')}`);
      if (Date.now() > deadline) throw new Error(`the controller did not start listening within 20 s:\n${this.controllerOutput.join('')}`);
      await sleep(25);
    }
    await eventually(async () => (await this.api.get('/', { accept: 'json' })).status === 200, 'the controller to answer', 20_000);
  }

  async killController(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const controller = this.controller;
    if (!controller || controller.exitCode !== null || controller.signalCode !== null) return;
    const exited = new Promise((resolve) => controller.once('exit', resolve));
    controller.kill(signal);
    await exited;
  }

  /** Where the controller's database is, for writing rows straight into it while the controller is stopped. */
  get databaseLocation(): { url?: string; dataDir: string } {
    return { url: this.databaseUrl, dataDir: path.join(this.directory, 'controller') };
  }

  /** Where shared storage is "mounted" for every agent of the system: one directory all of them see, as an NFS mount would be. */
  get mountRoot(): string {
    return path.join(this.directory, 'mnt');
  }

  async addHost(name: string, options: HostOptions = {}): Promise<void> {
    const hostDir = path.join(this.directory, 'hosts', name);
    await mkdir(hostDir, { recursive: true });
    let uri: string;
    let daemon: LibvirtDaemon | undefined;
    if (options.daemon) {
      daemon = new LibvirtDaemon(path.join(hostDir, 'libvirtd'));
      await daemon.start();
      uri = daemon.uri;
    } else {
      const file = path.join(hostDir, 'host.xml');
      await writeFile(file, hostXml(options.memoryMiB ?? 4096));
      uri = `test://${file}`;
    }
    const record: HostRecord = { name, uri, dataDir: path.join(hostDir, 'agent'), daemon, output: [] };
    this.hosts.set(name, record);
    await this.startAgent(name);
    await this.waitForHostStatus(name, 'up');
  }

  async startAgent(name: string): Promise<void> {
    const record = this.host(name);
    record.process = spawn(process.execPath, [agentEntry], {
      env: {
        ...process.env,
        DROVER_CONTROLLER: `127.0.0.1:${this.grpcPort}`,
        DROVER_LIBVIRT_URI: record.uri,
        DROVER_AGENT_DATA_DIR: record.dataDir,
        DROVER_HOST_NAME: name,
        DROVER_POLL_INTERVAL_MS: '100',
        DROVER_STORAGE_MOUNT_ROOT: this.mountRoot,
        DROVER_LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const capture = (chunk: Buffer) => record.output.push(chunk.toString());
    record.process.stdout!.on('data', capture);
    record.process.stderr!.on('data', capture);
  }

  async killAgent(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const agent = this.host(name).process;
    if (!agent || agent.exitCode !== null || agent.signalCode !== null) return;
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill(signal);
    await exited;
  }

  /** Freezes or thaws an agent, leaving its libvirt host untouched. */
  signalAgent(name: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.host(name).process?.kill(signal);
  }

  host(name: string): HostRecord {
    const record = this.hosts.get(name);
    if (!record) throw new Error(`no host ${name}`);
    return record;
  }

  async hostId(name: string): Promise<string> {
    const host = (await this.api.hosts()).find((candidate) => candidate.name === name);
    if (!host) throw new Error(`host ${name} is not registered`);
    return host.id;
  }

  async waitForHostStatus(name: string, status: string, timeoutMs = 15_000): Promise<void> {
    await eventually(async () => (await this.api.hosts()).find((host) => host.name === name)?.status === status, `host ${name} to be ${status}`, timeoutMs);
  }

  async waitForVmStatus(id: string, status: string, timeoutMs = 15_000): Promise<void> {
    await eventually(async () => (await this.api.vmStatus(id)) === status, `VM ${id} to be ${status}`, timeoutMs);
  }

  /** The command ids an agent logged as executed (one line per execution). */
  executedCommands(name: string): string[] {
    return this.host(name)
      .output.join('')
      .split('\n')
      .filter((line) => line.includes('"executing command"'))
      .map((line) => JSON.parse(line).commandId as string);
  }

  async close(): Promise<void> {
    for (const name of this.hosts.keys()) {
      this.signalAgent(name, 'SIGCONT');
      await this.killAgent(name, 'SIGTERM');
    }
    await this.killController('SIGTERM');
    for (const record of this.hosts.values()) await record.daemon?.stop();
    await this.dropDatabase?.();
    await rm(this.directory, { recursive: true, force: true });
  }
}
