import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../shared/logger.js';
import type { HostFacts } from '../shared/model.js';
import { droverVersion } from '../shared/version.js';
import { CommandExecutor } from './commands/executor.js';
import { CommandJournal } from './commands/journal.js';
import { defaultMigrationUri, type AgentConfig } from './config.js';
import { DriverError, type HypervisorDriver, type Reachability } from './hypervisor/driver.js';
import { LibvirtDriver } from './hypervisor/libvirt/driver.js';
import { ReconnectingDriver } from './hypervisor/reconnecting-driver.js';
import { loadIdentity, saveIdentity, type AgentIdentity } from './identity.js';
import { enroll, identityCredentials, parseEnrollmentToken, renew } from './link/enrollment.js';
import { CertificateRenewal } from './link/renewal.js';
import { ControllerLink } from './link/controller-link.js';
import { StateWatcher } from './watch/state-watcher.js';

export interface AgentDependencies {
  driver?: HypervisorDriver;
  logger?: Logger;
}

interface Running {
  renewal: CertificateRenewal;
  journal: CommandJournal;
  executor: CommandExecutor;
  watcher: StateWatcher;
  link: ControllerLink;
  facts: HostFacts;
}

/**
 * A Drover host agent: drives the local hypervisor on the controller's behalf
 * and reports the host's domains to it.
 */
export class Agent {
  readonly driver: HypervisorDriver;
  private readonly logger: Logger;
  private running?: Running;

  constructor(
    readonly config: AgentConfig,
    dependencies: AgentDependencies = {},
  ) {
    this.logger = dependencies.logger ?? createLogger('drover-agent');
    this.driver =
      dependencies.driver ??
      new ReconnectingDriver(
        new LibvirtDriver({
          uri: config.libvirtUri,
          dataDir: config.dataDir,
          mountRoot: config.storageMountRoot,
          domainType: config.domainType,
          displayAddress: config.displayAddress,
          unplugTimeoutMs: config.unplugTimeoutMs,
          cloudInitDir: config.cloudInitDir,
        }),
        { logger: this.logger },
      );
  }

  get hostFacts(): HostFacts | undefined {
    return this.running?.facts;
  }

  get connected(): boolean {
    return this.running?.link.connected ?? false;
  }

  /** Resolves once a session with the controller is welcomed and its Inventory sent. */
  waitUntilConnected(timeoutMs = 10_000): Promise<void> {
    const link = this.running?.link;
    if (!link) return Promise.reject(new Error('the agent is not started'));
    if (link.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        link.off('ready', onReady);
        reject(new Error(`no controller session within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      link.once('ready', onReady);
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    const { config, driver, logger } = this;
    let identity = await this.identity();
    const { hostId } = identity;
    await driver.open();
    const journal = await CommandJournal.open(config.dataDir);
    const node = await driver.nodeFacts();
    const facts: HostFacts = {
      hostId,
      hostname: config.hostname,
      cpuCount: node.cpuCount,
      cpuModel: node.cpuModel,
      memoryBytes: node.memoryBytes,
      libvirtVersion: node.libvirtVersion,
      hypervisorType: node.hypervisorType,
      hypervisorVersion: node.hypervisorVersion,
      libvirtUri: node.uri,
      agentVersion: droverVersion,
      cluster: config.cluster,
      domainType: node.domainType,
      migrationUri: config.migrationUri ?? defaultMigrationUri(node.uri, config.hostname),
      migrationAddress: config.migrationAddress ?? config.hostname,
    };
    let link: ControllerLink | undefined;
    const watcher = new StateWatcher({
      driver,
      pollIntervalMs: config.pollIntervalMs,
      onChange: (change) => link?.reportChange(change),
      onError: (error) => {
        if (!(error instanceof DriverError && error.kind === 'hypervisor_unreachable')) logger.error({ err: error }, 'listing domains failed');
      },
    });
    const executor = new CommandExecutor({
      driver,
      journal,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      rebootTimeoutMs: config.rebootTimeoutMs,
      afterCommand: (uuid, domain) => watcher.observe(uuid, domain, { reportedElsewhere: true }),
      duringCommand: (uuid) => watcher.hold(uuid),
      onMigrationProgress: (commandId, vmId, progress) => link?.reportMigrationProgress(commandId, vmId, progress),
      logger,
    });
    await watcher.start();
    let hypervisor: Reachability = { reachable: true };
    link = new ControllerLink({
      address: config.controllerAddress,
      credentials: () => identityCredentials(identity),
      hello: () => facts,
      inventory: () => watcher.snapshot(),
      hypervisor: () => hypervisor,
      execute: (command) => executor.execute(command),
      storageUsage: () => driver.storageUsage(),
      storageReportIntervalMs: config.storageReportIntervalMs,
      logger,
    });
    let reachabilityChanges = 0;
    driver.onReachabilityChange?.((reachability) => {
      const change = ++reachabilityChanges;
      if (!reachability.reachable) {
        hypervisor = reachability;
        link?.reportHypervisor(reachability);
        return;
      }
      void watcher.pollNow().then(() => {
        if (change !== reachabilityChanges) return;
        hypervisor = reachability;
        link?.reportHypervisor(reachability);
      });
    });
    link.start();
    const renewal = new CertificateRenewal({
      current: () => identity,
      renew: async () => {
        const renewed = await renew(config.controllerAddress, identity);
        await saveIdentity(config.dataDir, renewed);
        identity = renewed;
        link?.restart();
      },
      logger,
    });
    renewal.start();
    this.running = { renewal, journal, executor, watcher, link, facts };
    logger.info({ hostId, uri: facts.libvirtUri, controller: config.controllerAddress, libvirtVersion: facts.libvirtVersion }, 'agent started');
  }

  /** The identity in the data directory, or a new one from enrolling with the configured token when there is none. */
  private async identity(): Promise<AgentIdentity> {
    const { config, logger } = this;
    const kept = await loadIdentity(config.dataDir);
    if (kept) {
      if (config.enrollmentToken) logger.info({ hostId: kept.hostId }, 'the agent is enrolled already; DROVER_ENROLLMENT_TOKEN is not used');
      return kept;
    }
    if (!config.enrollmentToken) {
      throw new Error(`this agent is not enrolled (no certificate in ${config.dataDir}): create an enrollment token on the controller (drover enrollment-token create, or POST /ovirt-engine/api/hostenrollmenttokens) and start the agent with DROVER_ENROLLMENT_TOKEN set to it`);
    }
    const token = parseEnrollmentToken(config.enrollmentToken);
    let enrolled: AgentIdentity | undefined;
    for (let attempt = 0; !enrolled; attempt++) {
      try {
        enrolled = await enroll(config.controllerAddress, token);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) throw error;
        const delay = Math.min(5_000, 100 * 2 ** attempt);
        logger.warn({ err: error, retryInMs: delay }, 'the controller is not reachable for enrollment yet');
        await sleep(delay);
      }
    }
    await saveIdentity(config.dataDir, enrolled);
    logger.info({ hostId: enrolled.hostId }, 'enrolled with the controller');
    return enrolled;
  }

  /** Stops reporting and executing; guests are left as they are. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.renewal.stop();
    running.executor.close();
    await running.link.stop();
    await running.watcher.stop();
    await running.journal.close();
    await this.driver.close();
    this.logger.info('agent stopped');
  }
}
