import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { networkCommandKinds } from '../../shared/model.js';
import { adminPassword, Api } from './api.js';
import { eventually } from './eventually.js';
import { LibvirtDaemon } from './libvirt-daemon.js';
import { QemuDaemon } from './qemu-daemon.js';
import { createScratchDatabase, type DatabaseKind, type DatabaseLocation, type ScratchDatabase } from './scratch-database.js';
import { temporaryDirectory } from './temporary-directory.js';
import { privateTestHost } from './test-hosts.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const controllerEntry = path.join(distRoot, 'controller/main.js');
export const agentEntry = path.join(distRoot, 'agent/main.js');
/** The `drover` command-line tool. */
export const cliEntry = path.join(distRoot, 'controller/cli.js');

/** The process system's controller heartbeat interval unless a test sets another: short, so that tests of lost hosts are quick. */
export const heartbeatIntervalMs = 300;

/** A port nothing listens on now; another process may take it before the caller binds it. */
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

export interface HostOptions {
  memoryMiB?: number;
  /** Run the host's hypervisor in a libvirt daemon so that it survives agent restarts. */
  daemon?: boolean;
  /** Run the host on real QEMU: a private libvirtd of its own with the QEMU driver (the QEMU tier). */
  qemu?: boolean;
  /** Settings of the host's agent beyond those the system gives every agent, as its environment (`DROVER_DISPLAY_ADDRESS`, say). */
  agentEnvironment?: Record<string, string>;
  /** The agent's reboot timeout (DROVER_REBOOT_TIMEOUT_MS); the agent's default unless given. */
  rebootTimeoutMs?: number;
}

interface HostRecord {
  name: string;
  uri: string;
  dataDir: string;
  daemon?: LibvirtDaemon | QemuDaemon;
  rebootTimeoutMs?: number;
  process?: ChildProcess;
  output: string[];
  agentEnvironment: Record<string, string>;
}

/** A real controller process and real agent processes on a real database, in a temporary directory. */
export class ProcessSystem {
  api!: Api;
  apiPort = 0;
  grpcPort = 0;
  controller?: ChildProcess;
  controllerOutput: string[] = [];
  /** Settings of the controller beyond those the system gives it, as its environment, from its next start on (`DROVER_ADMIN_PASSWORD: ''` leaves the admin password as the database has it). */
  controllerEnvironment: Record<string, string> = {};
  readonly hosts = new Map<string, HostRecord>();

  private constructor(
    readonly directory: string,
    private readonly scratch: ScratchDatabase,
    readonly heartbeatMs: number,
  ) {}

  /** Where agents reach the controller's gRPC endpoint. */
  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** The file of the controller's CA certificate: the operator's (DROVER_CA_CERT), or the one it made in its data directory at first start. */
  get caFile(): string {
    return this.controllerEnvironment.DROVER_CA_CERT || path.join(this.scratch.dataDir, 'pki', 'ca.pem');
  }

  /** The controller's CA certificate (PEM). */
  caCertificate(): Promise<string> {
    return readFile(this.caFile, 'utf8');
  }

  /** The mode bits of each file in a host agent's data directory. */
  async agentFiles(name: string): Promise<Record<string, number>> {
    const { dataDir } = this.host(name);
    const modes: Record<string, number> = {};
    for (const file of await readdir(dataDir)) modes[file] = (await stat(path.join(dataDir, file))).mode & 0o777;
    return modes;
  }

  static async start(database: DatabaseKind, hosts: Record<string, HostOptions> = {}, options: { heartbeatMs?: number; controllerEnvironment?: Record<string, string> } = {}): Promise<ProcessSystem> {
    const directory = await temporaryDirectory('it');
    const scratch = await createScratchDatabase(database, 'it-db');
    const system = new ProcessSystem(directory.path, scratch, options.heartbeatMs ?? heartbeatIntervalMs);
    system.controllerEnvironment = options.controllerEnvironment ?? {};
    try {
      for (let attempt = 1; ; attempt++) {
        system.apiPort = await freePort();
        system.grpcPort = await freePort();
        try {
          await system.startController();
          break;
        } catch (error) {
          if (attempt >= 3 || !/EADDRINUSE/.test(String(error))) throw error;
        }
      }
      for (const [hostName, options] of Object.entries(hosts)) await system.addHost(hostName, options);
    } catch (error) {
      await system.close();
      throw error;
    }
    return system;
  }

  async startController(): Promise<void> {
    this.controllerOutput = [];
    this.controller = spawn(process.execPath, [controllerEntry], {
      env: {
        ...process.env,
        DROVER_LISTEN: `127.0.0.1:${this.apiPort}`,
        DROVER_GRPC_LISTEN: `127.0.0.1:${this.grpcPort}`,
        DROVER_DATA_DIR: this.scratch.dataDir,
        DROVER_DATABASE_URL: this.scratch.url ?? '',
        DROVER_ADMIN_PASSWORD: adminPassword,
        DROVER_HEARTBEAT_INTERVAL_MS: String(this.heartbeatMs),
        DROVER_POOL_RECONCILE_INTERVAL_MS: '200',
        DROVER_COUNT_STATEMENTS: '1',
        DROVER_MAX_EMBEDDED_OBJECTS: '10000',
        DROVER_LOG_LEVEL: 'info',
        ...this.controllerEnvironment,
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
    const startedLine = () => this.controllerOutput.join('').split('\n').slice(0, -1).find((line) => line.includes('"msg":"controller started"'));
    let line: string | undefined;
    while (!(line = startedLine())) {
      if (controller.exitCode !== null || controller.signalCode !== null) throw new Error(`the controller exited before it listened:\n${this.controllerOutput.join('')}`);
      if (Date.now() > deadline) throw new Error(`the controller did not start listening within 20 s:\n${this.controllerOutput.join('')}`);
      await sleep(25);
    }
    // A client set before a restart keeps its credentials.
    this.api = new Api(new URL((JSON.parse(line) as { apiUrl: string }).apiUrl).origin, this.api?.authorization, { ca: await this.caCertificate() });
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
  get databaseLocation(): DatabaseLocation {
    return { url: this.scratch.url, dataDir: this.scratch.dataDir };
  }

  get database(): DatabaseKind {
    return this.scratch.kind;
  }

  /** Where shared storage is "mounted" for every agent of the system: one directory all of them see, as an NFS mount would be. */
  get mountRoot(): string {
    return path.join(this.directory, 'mnt');
  }

  async addHost(name: string, options: HostOptions = {}): Promise<void> {
    const hostDir = path.join(this.directory, 'hosts', name);
    await mkdir(hostDir, { recursive: true });
    let uri: string;
    let daemon: LibvirtDaemon | QemuDaemon | undefined;
    if (options.qemu) {
      daemon = new QemuDaemon(path.join(hostDir, 'libvirtd'));
      await daemon.start();
      uri = daemon.uri;
    } else if (options.daemon) {
      daemon = new LibvirtDaemon(path.join(hostDir, 'libvirtd'));
      await daemon.start();
      uri = daemon.uri;
    } else {
      uri = await privateTestHost(hostDir, 'host', { memoryMiB: options.memoryMiB ?? 4096 });
    }
    const record: HostRecord = { name, uri, dataDir: path.join(hostDir, 'agent'), daemon, rebootTimeoutMs: options.rebootTimeoutMs, output: [], agentEnvironment: options.agentEnvironment ?? {} };
    this.hosts.set(name, record);
    await this.startAgent(name);
    await this.waitForHostStatus(name, 'up');
  }

  /** A new enrollment token from the API, for an agent whose data directory holds no certificate yet; none for one that has enrolled. */
  async enrollmentTokenFor(agentDataDir: string): Promise<string | undefined> {
    if (existsSync(path.join(agentDataDir, 'host.pem'))) return undefined;
    const created = await this.api.post('/hostenrollmenttokens', { description: `test agent in ${agentDataDir}` }, { accept: 'json' });
    if (created.status !== 201) throw new Error(`creating an enrollment token answered ${created.status}: ${created.text}`);
    return created.body.token as string;
  }

  async startAgent(name: string): Promise<void> {
    const record = this.host(name);
    const token = await this.enrollmentTokenFor(record.dataDir);
    record.process = spawn(process.execPath, [agentEntry], {
      env: {
        ...process.env,
        DROVER_CONTROLLER: `127.0.0.1:${this.grpcPort}`,
        ...(token ? { DROVER_ENROLLMENT_TOKEN: token } : {}),
        DROVER_LIBVIRT_URI: record.uri,
        DROVER_AGENT_DATA_DIR: record.dataDir,
        DROVER_HOST_NAME: name,
        DROVER_POLL_INTERVAL_MS: '100',
        DROVER_STORAGE_MOUNT_ROOT: this.mountRoot,
        DROVER_LOG_LEVEL: 'debug',
        ...(record.daemon instanceof QemuDaemon ? { DROVER_MIGRATION_URI: record.daemon.migrationUri, DROVER_MIGRATION_ADDRESS: '127.0.0.1' } : {}),
        ...record.agentEnvironment,
        ...(record.rebootTimeoutMs ? { DROVER_REBOOT_TIMEOUT_MS: String(record.rebootTimeoutMs) } : {}),
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

  /** The QEMU daemon of a host added with `qemu: true`. */
  qemuDaemon(name: string): QemuDaemon {
    const daemon = this.host(name).daemon;
    if (!(daemon instanceof QemuDaemon)) throw new Error(`host ${name} does not run on QEMU`);
    return daemon;
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

  /** The command ids an agent logged as executed (one line per execution), but those on networks, which a host is sent whenever it comes up. */
  executedCommands(name: string): string[] {
    return this.host(name)
      .output.join('')
      .split('\n')
      .filter((line) => line.includes('"executing command"'))
      .map((line) => JSON.parse(line) as { commandId: string; kind: string })
      .filter((entry) => !(networkCommandKinds as readonly string[]).includes(entry.kind))
      .map((entry) => entry.commandId);
  }

  async close(): Promise<void> {
    for (const name of this.hosts.keys()) {
      this.signalAgent(name, 'SIGCONT');
      await this.killAgent(name, 'SIGTERM');
    }
    await this.killController('SIGTERM');
    for (const record of this.hosts.values()) await record.daemon?.stop().catch(() => undefined);
    await this.scratch.drop();
    await rm(this.directory, { recursive: true, force: true });
  }
}
