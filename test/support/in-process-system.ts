import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Agent } from '../../agent/agent.js';
import type { HypervisorDriver } from '../../agent/hypervisor/driver.js';
import type { LibvirtDriverOptions } from '../../agent/hypervisor/libvirt/driver.js';
import { configFromEnvironment, type ControllerConfig } from '../../controller/config.js';
import { startController, type RunningController } from '../../controller/controller.js';
import { adminPassword, adminUser, Api, basicAuthorization } from './api.js';
import { eventually } from './eventually.js';
import { KeepAliveClient } from './keep-alive-client.js';
import { agentEntry } from './process-system.js';
import { createScratchDatabase, type DatabaseKind, type DatabaseLocation, type ScratchDatabase } from './scratch-database.js';
import { temporaryDirectory, type TemporaryDirectory } from './temporary-directory.js';
import { privateTestHost } from './test-hosts.js';

/** The controller settings a test or benchmark may choose; the system itself sets where it listens, its database and the admin password. */
export type ControllerSettings = Partial<Omit<ControllerConfig, 'listen' | 'grpcListen' | 'dataDir' | 'databaseUrl' | 'adminPassword'>>;

export interface InProcessSystemOptions {
  /** Names the system's temporary directory (drover-LABEL-XXXXXX) and scratch database. */
  label?: string;
  /** Settings over those of a production controller (configFromEnvironment's defaults), e.g. a short heartbeatIntervalMs. */
  controller?: ControllerSettings;
  /** Runs on the fresh database before the controller opens it, e.g. to write rows the controller reads at start. */
  before?: (database: DatabaseLocation) => Promise<void>;
  /** The level of the controller's and agents' logs, which go to files in the system's directory: 'info' unless set, as in production. */
  logLevel?: string;
  /** Leaves the system's directory (logs, the SQLite file) in place after close. */
  keepDirectory?: boolean;
  /** The CA certificate (PEM) the system's clients trust over HTTPS: the controller's own CA unless set (to the issuer of an operator's certificate, say). */
  trust?: string;
}

export interface AgentOptions {
  name: string;
  /** The hypervisor to drive; without it, a private test host of `memoryMiB` (4096 unless set) in the system's directory. */
  uri?: string;
  memoryMiB?: number;
  pollIntervalMs?: number;
  /** Builds the agent's driver from the options its own LibvirtDriver would have; without it the agent builds a LibvirtDriver itself. */
  driver?: (options: LibvirtDriverOptions) => HypervisorDriver;
}

export interface RunningAgent {
  agent: Agent;
  hostId: string;
  uri: string;
}

/**
 * A controller in this process on a scratch database (SQLite or PostgreSQL),
 * with agents added on demand: in this process too (on private test hosts or
 * with an injected driver), or as processes of their own. Tests reach the
 * controller's services and ORM directly, and the API through `api`.
 */
export class InProcessSystem {
  readonly agents = new Map<string, Agent>();
  readonly agentProcesses = new Map<string, ChildProcess>();
  readonly api: Api;
  /** A sequential keep-alive client with timings, for measuring requests. */
  readonly client: KeepAliveClient;
  readonly authorization = basicAuthorization(adminUser, adminPassword);

  private constructor(
    private readonly temporary: TemporaryDirectory,
    private readonly scratch: ScratchDatabase,
    readonly controller: RunningController,
    private readonly options: InProcessSystemOptions,
  ) {
    const trust = options.trust ?? controller.ca.certificatePem;
    this.api = new Api(this.origin, this.authorization, { ca: trust });
    this.client = new KeepAliveClient(this.origin, this.authorization, trust);
  }

  static async start(database: DatabaseKind, options: InProcessSystemOptions = {}): Promise<InProcessSystem> {
    const label = options.label ?? 'in-process';
    const temporary = await temporaryDirectory(label);
    let scratch: ScratchDatabase | undefined;
    try {
      scratch = await createScratchDatabase(database, `${label}-db`);
      if (options.before) await options.before({ url: scratch.url, dataDir: scratch.dataDir });
      const controller = await startController(
        {
          ...configFromEnvironment({}),
          ...options.controller,
          listen: '127.0.0.1:0',
          grpcListen: '127.0.0.1:0',
          dataDir: scratch.dataDir,
          databaseUrl: scratch.url,
          adminPassword,
        },
        fileLogger(path.join(temporary.path, 'controller.log'), 'drover-controller', options.logLevel),
      );
      return new InProcessSystem(temporary, scratch, controller, options);
    } catch (error) {
      await scratch?.drop({ keepFiles: options.keepDirectory });
      if (!options.keepDirectory) await temporary.remove();
      throw error;
    }
  }

  get database(): DatabaseKind {
    return this.scratch.kind;
  }

  get databaseLocation(): DatabaseLocation {
    return { url: this.scratch.url, dataDir: this.scratch.dataDir };
  }

  /** The system's temporary directory: logs, agents' data, test hosts. */
  get directory(): string {
    return this.temporary.path;
  }

  /** Where shared storage is "mounted" for every in-process agent: one directory all of them see, as an NFS mount would be. */
  get mountRoot(): string {
    return path.join(this.directory, 'mnt');
  }

  /** The API's root URL, https://127.0.0.1:PORT/ovirt-engine/api (http:// when the API's TLS is off). */
  get apiRoot(): string {
    return this.controller.apiUrl;
  }

  get origin(): string {
    return new URL(this.controller.apiUrl).origin;
  }

  /** The URL path of an API resource: path('/vms/ID') is /ovirt-engine/api/vms/ID. */
  path(relative: string): string {
    return `${new URL(this.controller.apiUrl).pathname}${relative}`;
  }

  /** Starts an agent in this process and waits until the controller has welcomed it. */
  async addAgent(options: AgentOptions): Promise<RunningAgent> {
    if (this.agents.has(options.name) || this.agentProcesses.has(options.name)) throw new Error(`there is an agent ${options.name} already`);
    const uri = options.uri ?? (await privateTestHost(this.directory, options.name, { memoryMiB: options.memoryMiB ?? 4096 }));
    const dataDir = path.join(this.directory, 'agents', options.name);
    const agent = new Agent(
      {
        controllerAddress: this.controller.grpcAddress,
        enrollmentToken: await this.enrollmentTokenFor(dataDir),
        libvirtUri: uri,
        dataDir,
        hostname: options.name,
        cluster: '',
        pollIntervalMs: options.pollIntervalMs ?? 1000,
        storageMountRoot: this.mountRoot,
        storageReportIntervalMs: 60_000,
        shutdownTimeoutMs: 60_000,
        rebootTimeoutMs: 120_000,
      },
      { driver: options.driver?.({ uri, dataDir, mountRoot: this.mountRoot }), logger: fileLogger(path.join(this.directory, `agent-${options.name}.log`), 'drover-agent', this.options.logLevel) },
    );
    this.agents.set(options.name, agent);
    await agent.start();
    await agent.waitUntilConnected(15_000);
    const hostId = agent.hostFacts!.hostId;
    await eventually(() => this.controller.services.hosts.get(hostId).status === 'up', `host ${options.name} to be up`);
    return { agent, hostId, uri };
  }

  /** Runs an agent as a process of its own, as `npm start` runs the embedded one, and waits until its host is up. */
  async addAgentProcess(name: string, uri: string, options: { nodeArguments?: string[] } = {}): Promise<ChildProcess> {
    if (this.agents.has(name) || this.agentProcesses.has(name)) throw new Error(`there is an agent ${name} already`);
    const child = spawn(process.execPath, [...(options.nodeArguments ?? []), agentEntry], {
      env: {
        ...process.env,
        DROVER_CONTROLLER: this.controller.grpcAddress,
        DROVER_ENROLLMENT_TOKEN: (await this.enrollmentTokenFor(path.join(this.directory, 'agents', name))) ?? '',
        DROVER_LIBVIRT_URI: uri,
        DROVER_AGENT_DATA_DIR: path.join(this.directory, 'agents', name),
        DROVER_HOST_NAME: name,
        DROVER_STORAGE_MOUNT_ROOT: this.mountRoot,
        DROVER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.agentProcesses.set(name, child);
    await eventually(() => this.controller.services.hosts.list().some((host) => host.name === name && host.status === 'up'), `agent ${name} to register`);
    return child;
  }

  /** A new enrollment token for an agent whose data directory holds no certificate yet; none for one that has enrolled. */
  async enrollmentTokenFor(agentDataDir: string): Promise<string | undefined> {
    if (existsSync(path.join(agentDataDir, 'host.pem'))) return undefined;
    return (await this.controller.services.enrollment.createToken({ description: `test agent in ${agentDataDir}` })).token;
  }

  /** Stops the agents, then the controller, and drops the database. */
  async close(): Promise<void> {
    this.client.close();
    await this.api.close();
    for (const child of this.agentProcesses.values()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    this.agentProcesses.clear();
    for (const agent of this.agents.values()) await agent.stop().catch(() => undefined);
    this.agents.clear();
    await this.controller.stop().catch(() => undefined);
    await this.scratch.drop({ keepFiles: this.options.keepDirectory }).catch(() => undefined);
    if (!this.options.keepDirectory) await this.temporary.remove();
  }
}

/** Logs to a file, synchronously as pino writes to stdout by default, so that their cost is that of a production process's. */
function fileLogger(file: string, name: string, level = 'info'): Logger {
  return pino({ name, level }, pino.destination({ dest: file, sync: true, mkdir: true }));
}
