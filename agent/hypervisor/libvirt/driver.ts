import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { access } from 'node:fs/promises';
import type {
  ConsoleFacts,
  ConsoleTicket,
  DomainStatus,
  IsoFileFacts,
  IsoFileRef,
  MediumFacts,
  MigrationProgress,
  MigrationTarget,
  NetworkSpec,
  PowerState,
  RebootFacts,
  StorageSpec,
  StorageUsage,
  VmSpec,
  VolumeFacts,
  VolumeRef,
  VolumeSpec,
} from '../../../shared/model.js';
import { DriverError, type DomainChangeHint, type HypervisorDriver, type NodeFacts } from '../driver.js';
import {
  bridgeNameFor,
  cdromAlias,
  defaultMountRoot,
  designDisks,
  designDomain,
  designInterface,
  deviceAlias,
  domainNamePrefix,
  imagesDirectory,
  isoPath,
  networkNameFor,
  storageDirectory,
  storagePoolName,
  storagePoolPrefix,
  volumePath,
} from './designer.js';
import {
  droverNamespace,
  findDeviceXml,
  readCdrom,
  readDiskTargets,
  readDroverMetadata,
  serializeCdromXml,
  serializeDeviceXml,
  serializeDomainXml,
  serializeDroverMetadata,
} from './domain-xml.js';
import { listIsoFiles, mediumOf } from './iso-media.js';
import { RebootWatch, rebootCompletesInCall } from './reboot-watch.js';
import { serializeNetworkXml, serializePoolXml, serializeVolumeXml } from './resource-xml.js';
import { volumeFiles } from './volume-files.js';
import { isInvalidOperation, toDriverError, translateErrors } from './errors.js';
import { DomainEvent, DomainState, ErrorCode, LibvirtConnection, isLibvirtError, type DomainInfo, type DomainOperation, type NetworkSummary } from './native/index.js';
import { SaveImages } from './save-images.js';
import { CloudInitSeeds } from './cloud-init-seed.js';
import { chooseDomainType, parseCapabilities, type DomainType, type HostCapabilities } from './host-capabilities.js';
import { consoleFacts, defaultDisplayAddress, liveGraphics, ticketedGraphics } from './consoles.js';
import { serializeGraphicsXml } from './domain-xml.js';
import { VolumeUseGuard, volumeUsers } from './volume-users.js';

/** How long an unplug waits for the guest to release the device by default: vdsm's hot-unplug timeout. */
export const defaultUnplugTimeoutMs = 30_000;

export interface LibvirtDriverOptions {
  uri: string;
  dataDir: string;
  /** Where shared storage is mounted on this host; oVirt's /rhev/data-center/mnt by default. */
  mountRoot?: string;
  /** The domain type of this host's guests; by default the best the host offers (kvm, else qemu's emulation). */
  domainType?: DomainType;
  /** The address guests' graphics consoles listen on; the loopback address by default. */
  displayAddress?: string;
  /** How long unplugDevice waits for the guest to release a device; defaultUnplugTimeoutMs unless given. */
  unplugTimeoutMs?: number;
  /** Where cloud-init seeds are written; `cloud-init` in the data directory by default. QEMU must be able to reach it. */
  cloudInitDir?: string;
}

const powerStateByLibvirtState: Record<number, PowerState> = {
  [DomainState.NOSTATE]: 'running',
  [DomainState.RUNNING]: 'running',
  [DomainState.BLOCKED]: 'running',
  [DomainState.PAUSED]: 'paused',
  [DomainState.SHUTDOWN]: 'shutting_down',
  [DomainState.SHUTOFF]: 'shutoff',
  [DomainState.CRASHED]: 'crashed',
  [DomainState.PMSUSPENDED]: 'pm_suspended',
};

/** Lifecycle events that imply the domain's state; a stop may be a save (suspended), so only a read tells. */
function hintOf(event: number): DomainChangeHint {
  if (event === DomainEvent.DEFINED) return 'definition';
  if (event === DomainEvent.STARTED || event === DomainEvent.RESUMED) return 'running';
  if (event === DomainEvent.SUSPENDED) return 'paused';
  return undefined;
}

/**
 * Over a network (a URI with a transport, such as qemu+ssh://), libvirt
 * probes the daemon every keepAliveIntervalSeconds and gives the connection
 * up after keepAliveCount unanswered probes. A local daemon that hangs is
 * noticed by the reconnecting driver's pings instead: libvirt 9.0's
 * client can crash when a keepalive timeout closes a connection under a
 * waiting call, which a local daemon does not need the risk of (its socket
 * closes when it dies).
 */
export function isRemoteUri(uri: string): boolean {
  const scheme = /^([a-z0-9+.-]+):/i.exec(uri)?.[1] ?? '';
  return scheme.includes('+') || /^[a-z0-9+.-]+:\/\/[^/?]/i.test(uri);
}

const keepAliveIntervalSeconds = 5;
const keepAliveCount = 3;

const activeStates: ReadonlySet<PowerState> = new Set(['running', 'paused', 'shutting_down', 'crashed', 'pm_suspended']);

function invalidState(status: DomainStatus, operation: string): DriverError {
  return new DriverError('invalid_state', `cannot ${operation} domain ${status.name}: it is ${status.state}`);
}

/**
 * What libvirt answers for job statistics where no outgoing migration runs:
 * a hypervisor without them (the test driver, which cannot migrate either),
 * a domain that receives a migration ("available only on the source host"),
 * and one that stopped running, as a domain that left does.
 */
const noMigrationJobCodes: ReadonlySet<number> = new Set([ErrorCode.NO_SUPPORT, ErrorCode.OPERATION_UNSUPPORTED, ErrorCode.OPERATION_INVALID]);

/** Where QEMU's migration stream goes: tcp://host, with an IPv6 address in brackets. */
export function migrationStreamUri(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `tcp://[${address}]` : `tcp://${address}`;
}

function notFound(uuid: string): DriverError {
  return new DriverError('domain_not_found', `no domain with UUID ${uuid}`);
}

/**
 * The HypervisorDriver on libvirt, through Drover's own binding (./native): one
 * connection, opened by open(), on which every call runs. Most operations are a
 * single job of the binding: it looks the domain up, checks its state where
 * libvirt would not, acts, and reads the state afterwards.
 */
export class LibvirtDriver implements HypervisorDriver {
  private connection?: LibvirtConnection;
  private capabilities: HostCapabilities = { arch: '', cpuModel: '', domainTypes: [] };
  private domainType: DomainType = 'test';
  private readonly images: SaveImages;
  private readonly seeds: CloudInitSeeds;
  private readonly managedByUuid = new Map<string, boolean>();
  private readonly busy = new Map<string, number>();
  private readonly changeListeners = new Set<(uuid: string, hint: DomainChangeHint) => void>();
  private lastListed = new Set<string>();
  private readonly mountRoot: string;
  /** The images directory of each storage domain prepared on this host, by storage domain id. */
  private readonly preparedStorage = new Map<string, string>();
  private readonly realizedNetworks = new Set<string>();
  /** The change of each network under way (a realization, a release), by libvirt network name, so that concurrent ones do not collide. */
  private readonly networkChanges = new Map<string, Promise<void>>();
  private readonly reboots = new RebootWatch();
  private rebootIsSynchronous = false;
  private readonly volumeUse = new VolumeUseGuard();

  constructor(private readonly options: LibvirtDriverOptions) {
    this.images = new SaveImages(path.join(options.dataDir, 'saved-memory'));
    this.seeds = new CloudInitSeeds(options.cloudInitDir ?? path.join(options.dataDir, 'cloud-init'));
    this.mountRoot = options.mountRoot ?? defaultMountRoot;
  }

  /**
   * Connects, has libvirt probe the daemon with keepalive messages (where the
   * hypervisor runs in a daemon), and subscribes to domain lifecycle events
   * when the hypervisor offers them (without them, only polling sees
   * changes). A closed driver can be opened again, on a new connection.
   */
  async open(): Promise<void> {
    await this.images.load();
    this.managedByUuid.clear();
    this.realizedNetworks.clear();
    const connection = new LibvirtConnection(this.options.uri);
    await translateErrors(() => connection.open());
    try {
      this.capabilities = parseCapabilities(await translateErrors(() => connection.capabilities()));
      this.domainType = chooseDomainType(this.capabilities, this.options.domainType);
      if (isRemoteUri(this.options.uri)) {
        await connection.setKeepAlive(keepAliveIntervalSeconds, keepAliveCount).catch((error: unknown) => {
          if (!(isLibvirtError(error) && error.code === ErrorCode.NO_SUPPORT)) throw toDriverError(error);
        });
      }
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error instanceof DriverError ? error : new DriverError('hypervisor_failure', (error as Error).message);
    }
    await connection.onDomainLifecycle((event) => this.domainChanged(event.uuid, hintOf(event.event))).catch(() => undefined);
    await connection.onDomainReboot((uuid) => this.reboots.rebooted(uuid)).catch(() => undefined);
    this.rebootIsSynchronous = rebootCompletesInCall(await translateErrors(() => connection.hypervisorType()));
    this.connection = connection;
    await this.discoverPools().catch(() => undefined);
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await translateErrors(() => connection.close());
  }

  /** Whether the connection is open and alive: false once libvirtd went away (or, over a network, stopped answering keepalive probes). */
  isAlive(): boolean {
    return this.connection?.isAlive() ?? false;
  }

  /** Asks libvirtd its host name, which it answers whatever jobs its domains run. */
  async ping(): Promise<void> {
    await translateErrors(() => this.connected().hostname());
  }

  onDomainChange(listener: (uuid: string, hint: DomainChangeHint) => void): void {
    this.changeListeners.add(listener);
  }

  async nodeFacts(): Promise<NodeFacts> {
    const connection = this.connected();
    const [info, hostname, hypervisorType, hypervisorVersion, libvirtVersion] = await translateErrors(() =>
      Promise.all([connection.nodeInfo(), connection.hostname(), connection.hypervisorType(), connection.hypervisorVersion(), connection.libraryVersion()]),
    );
    return {
      hostname,
      cpuCount: info.cpus,
      cpuModel: this.capabilities.cpuModel || info.model,
      domainType: this.domainType,
      memoryBytes: info.memoryKiB * 1024,
      libvirtVersion,
      hypervisorType,
      hypervisorVersion,
      uri: this.options.uri,
    };
  }

  async listDomains(): Promise<DomainStatus[]> {
    const connection = this.connected();
    const listedAt = this.images.tick();
    const domains = await translateErrors(() => connection.listDomains());
    await Promise.all(domains.filter((domain) => this.knownManaged(domain) === undefined).map((domain) => this.isManaged(domain)));
    const listed = new Map<string, DomainStatus>();
    for (const domain of domains) {
      const status = this.toStatus(domain, this.knownManaged(domain) ?? false);
      if (activeStates.has(status.state) && this.images.recordedBefore(status.uuid, listedAt) && !this.busy.has(status.uuid)) await this.images.discard(status.uuid);
      listed.set(status.uuid, status);
    }
    await this.recheckVanished(listed);
    for (const uuid of this.managedByUuid.keys()) if (!listed.has(uuid) && !this.busy.has(uuid)) this.managedByUuid.delete(uuid);
    this.lastListed = new Set(listed.keys());
    return [...listed.values()];
  }

  async getDomain(uuid: string): Promise<DomainStatus | undefined> {
    const status = await translateErrors(() => this.currentStatus(uuid));
    if (status && activeStates.has(status.state) && this.images.has(uuid) && !this.busy.has(uuid)) await this.images.discard(uuid);
    return status;
  }

  async define(spec: VmSpec): Promise<DomainStatus> {
    return this.exclusively(spec.id, () => this.volumeUse.using(async () => {
      await this.realizeDevices(spec);
      return this.defineNow(spec);
    }));
  }

  async plugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    return this.exclusively(spec.id, () => this.volumeUse.using(async () => {
      await this.realizeDevices(spec);
      const live = await this.runningDomainXml(spec.id, 'plug a device into');
      const xml = this.deviceXml(spec, deviceId, readDiskTargets(live));
      await this.connected().attachDevice(spec.id, xml, { live: true });
      try {
        await this.defineNow(spec);
      } catch (error) {
        await this.connected().detachDevice(spec.id, xml, { live: true }).catch(() => undefined);
        throw error;
      }
      return this.currentStatus(spec.id);
    }));
  }

  async unplugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    return this.exclusively(spec.id, async () => {
      const live = await this.runningDomainXml(spec.id, 'unplug a device from');
      const xml = findDeviceXml(live, deviceAlias(deviceId));
      if (xml) {
        const deadline = Date.now() + (this.options.unplugTimeoutMs ?? defaultUnplugTimeoutMs);
        await this.connected().detachDevice(spec.id, xml, { live: true });
        await this.waitUntilReleased(spec.id, deviceId, deadline);
      }
      const remaining = { ...spec, disks: spec.disks.filter((disk) => disk.diskId !== deviceId), nics: spec.nics.filter((nic) => nic.nicId !== deviceId) };
      try {
        await this.defineNow(remaining);
      } catch (error) {
        if (xml) await this.connected().attachDevice(spec.id, xml, { live: true }).catch(() => undefined);
        throw error;
      }
      return this.currentStatus(spec.id);
    });
  }

  async listIsoFiles(storage: StorageSpec): Promise<IsoFileFacts[]> {
    return translateErrors(() => listIsoFiles(storage, this.mountRoot));
  }

  async changeMedium(uuid: string, medium: IsoFileRef | undefined): Promise<MediumFacts> {
    return this.exclusively(uuid, async () => {
      const drive = readCdrom(await this.runningDomainXml(uuid, 'change the CD-ROM medium of'), cdromAlias);
      if (!drive) throw new DriverError('hypervisor_failure', `domain ${uuid} has no Drover CD-ROM drive; start it from Drover once to give it one`);
      const file = medium ? isoPath(medium, this.mountRoot) : undefined;
      if (file && !(await volumeFiles.exists(file))) throw new DriverError('hypervisor_failure', `the ISO file ${file} does not exist on this host`);
      await this.connected().updateDevice(uuid, serializeCdromXml({ ...drive, path: file }), { live: true });
      return this.mediumNow(uuid);
    });
  }

  async readMedium(uuid: string): Promise<MediumFacts> {
    return translateErrors(() => this.mediumNow(uuid));
  }

  async prepareStorage(storage: StorageSpec): Promise<StorageUsage> {
    return translateErrors(async () => {
      await this.ensurePool(storage);
      return this.usageOf(storage);
    });
  }

  async releaseStorage(storage: StorageSpec): Promise<void> {
    return translateErrors(async () => {
      this.preparedStorage.delete(storage.id);
      const name = storagePoolName(storage.id);
      const pool = (await this.connected().listStoragePools()).find((candidate) => candidate.name === name);
      if (!pool) return;
      if (pool.active) await this.connected().stopStoragePool(name);
      if (pool.persistent) await this.connected().undefineStoragePool(name);
    });
  }

  async storageUsage(): Promise<StorageUsage[]> {
    const usage = await Promise.all(
      [...this.preparedStorage].map(async ([storageId, images]) => ({ storageId, ...(await volumeFiles.space(images)) }) as StorageUsage).map((entry) => entry.catch(() => undefined)),
    );
    return usage.filter((entry): entry is StorageUsage => entry !== undefined);
  }

  async createVolume(volume: VolumeSpec): Promise<{ volume: VolumeFacts; usage: StorageUsage }> {
    return translateErrors(async () => {
      await this.ensurePool(volume.storage);
      const file = volumePath(volume, this.mountRoot);
      if (await volumeFiles.exists(file)) return { volume: await this.existingVolume(volume, file), usage: await this.usageOf(volume.storage) };
      if (!volume.sparse) {
        const { availableBytes } = await this.usageOf(volume.storage);
        if (volume.capacityBytes > availableBytes) {
          throw new DriverError('no_space', `storage domain ${volume.storage.id} has ${availableBytes} bytes free, the volume needs ${volume.capacityBytes}`);
        }
      }
      try {
        await this.writeVolume(volume, file);
      } catch (error) {
        await this.discardVolume(volume);
        throw error;
      }
      return { volume: { path: file, actualSizeBytes: await volumeFiles.actualSize(file) }, usage: await this.usageOf(volume.storage) };
    });
  }

  async deleteVolume(volume: VolumeRef): Promise<StorageUsage> {
    return translateErrors(() =>
      this.volumeUse.deletion(async () => {
        await this.refuseUsed(volume);
        await this.discardVolume(volume);
        return this.usageOf(volume.storage).catch(() => ({ storageId: volume.storage.id, availableBytes: 0, usedBytes: 0 }));
      }),
    );
  }

  async checkVolumeUnused(volume: VolumeRef): Promise<void> {
    return translateErrors(() => this.refuseUsed(volume));
  }

  async start(uuid: string, spec?: VmSpec): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, () => this.volumeUse.using(async () => {
      if (spec) await this.realizeDevices(spec);
      const seed = spec?.cloudInit ? await this.seeds.write(uuid, spec.cloudInit) : undefined;
      if (this.images.has(uuid)) {
        if (spec) await this.defineNow(spec, {}, seed);
        const before = await this.existingStatus(uuid);
        if (before.state === 'suspended') return this.restore(uuid);
      } else if (spec) {
        try {
          return await this.defineNow(spec, { thenCreate: true }, seed);
        } catch (error) {
          if (!isInvalidOperation(error)) throw error;
          throw invalidState(await this.existingStatus(uuid), 'start');
        }
      }
      return this.act(uuid, 'start', 'create', [DomainState.SHUTOFF]);
    }));
  }

  async shutdown(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, async () => {
      let after: DomainInfo | null;
      try {
        after = await this.connected().domainOperation(uuid, 'shutdown', { requiredStates: [DomainState.RUNNING] });
      } catch (error) {
        if (!isInvalidOperation(error)) throw error;
        const now = await this.existingStatus(uuid);
        if (now.state !== 'shutting_down') throw invalidState(now, 'shut down');
        after = await this.waitUntilInactive(uuid, timeoutMs);
      }
      if (after && after.state !== DomainState.SHUTOFF) after = await this.waitUntilInactive(uuid, timeoutMs);
      return this.statusOf(after);
    });
  }

  async destroy(uuid: string): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, async () => {
      if (this.images.has(uuid)) {
        const before = await this.existingStatus(uuid);
        if (before.state === 'suspended') {
          await this.images.discard(uuid);
          return { ...before, state: 'shutoff' };
        }
      }
      return this.act(uuid, 'destroy', 'destroy');
    });
  }

  async resume(uuid: string): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, () => this.volumeUse.using(async () => {
      if (this.images.has(uuid)) {
        const before = await this.existingStatus(uuid);
        if (before.state === 'suspended') return this.restore(uuid);
      }
      try {
        return await this.statusOf(await this.connected().domainOperation(uuid, 'resume', { requiredStates: [DomainState.PAUSED] }));
      } catch (error) {
        if (!isInvalidOperation(error)) throw error;
        const now = await this.existingStatus(uuid);
        if (now.state !== 'pm_suspended') throw invalidState(now, 'resume');
        return this.act(uuid, 'resume', 'pmWakeup', [DomainState.PMSUSPENDED]);
      }
    }));
  }

  async suspend(uuid: string): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, async () => {
      const before = await this.existingStatus(uuid);
      if (before.state !== 'running' && before.state !== 'paused') throw invalidState(before, 'suspend');
      const file = this.images.pathFor(uuid);
      await mkdir(path.dirname(file), { recursive: true });
      let after: DomainInfo | null;
      try {
        after = await this.connected().saveDomain(uuid, file);
      } catch (error) {
        await rm(file, { force: true });
        throw error;
      }
      this.images.record(uuid);
      return this.statusOf(after);
    });
  }

  async reboot(uuid: string, timeoutMs: number): Promise<{ domain: DomainStatus | undefined; reboot: RebootFacts }> {
    return this.exclusively(uuid, async () => {
      const rebooted = this.reboots.next(uuid);
      const askedAt = Date.now();
      try {
        const asked = await this.act(uuid, 'reboot', 'reboot', [DomainState.RUNNING]);
        if (this.rebootIsSynchronous || (await rebooted.within(timeoutMs - (Date.now() - askedAt)))) {
          return { domain: this.rebootIsSynchronous ? asked : await this.currentStatus(uuid), reboot: { reset: false, waitedMs: Date.now() - askedAt } };
        }
        return { domain: await this.act(uuid, 'reboot', 'reset', [DomainState.RUNNING]), reboot: { reset: true, waitedMs: timeoutMs } };
      } catch (error) {
        if (!(isLibvirtError(error) && error.code === ErrorCode.NO_SUPPORT)) throw error;
      } finally {
        rebooted.cancel();
      }
      await this.act(uuid, 'reboot', 'shutdown', [DomainState.RUNNING]);
      try {
        await this.waitUntilInactive(uuid, timeoutMs);
      } catch (error) {
        if (!(error instanceof DriverError && error.kind === 'timed_out')) throw error;
        await this.connected().domainOperation(uuid, 'destroy');
      }
      return { domain: await this.statusOf(await this.connected().domainOperation(uuid, 'create')), reboot: { reset: false, waitedMs: Date.now() - askedAt } };
    });
  }

  async reset(uuid: string): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, () => this.act(uuid, 'reset', 'reset', [DomainState.RUNNING]));
  }

  async prepareNetwork(network: NetworkSpec): Promise<void> {
    return translateErrors(async () => {
      this.realizedNetworks.delete(networkNameFor(network));
      await this.ensureNetwork(network);
    });
  }

  async releaseNetwork(network: NetworkSpec): Promise<void> {
    const name = networkNameFor(network);
    return translateErrors(() =>
      this.changeNetwork(name, async () => {
        const connection = this.connected();
        const existing = (await connection.listNetworks()).find((candidate) => candidate.name === name);
        if (!existing) return;
        const user = await this.activeDomainOnNetwork(name);
        if (user) throw new DriverError('invalid_state', `network ${network.name} is used by the running domain ${user}`);
        this.realizedNetworks.delete(name);
        if (existing.active) await connection.stopNetwork(name);
        if (existing.persistent) await connection.undefineNetwork(name);
      }),
    );
  }

  async undefine(uuid: string): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, async () => {
      const after = await this.act(uuid, 'undefine', 'undefine', [DomainState.SHUTOFF]);
      await this.images.discard(uuid);
      await this.seeds.remove(uuid);
      this.managedByUuid.delete(uuid);
      return after;
    });
  }

  async setConsoleTicket(uuid: string, ticket: ConsoleTicket): Promise<ConsoleFacts> {
    return translateErrors(async () => {
      const graphics = liveGraphics(await this.runningDomainXml(uuid, 'set a console ticket on'));
      if (graphics.type !== ticket.protocol) throw new DriverError('invalid_state', `the running console of domain ${uuid} is ${graphics.type}, not ${ticket.protocol}; the VM's display changes at its next start`);
      await this.connected().updateDevice(uuid, serializeGraphicsXml(ticketedGraphics(graphics, ticket, new Date())), { live: true });
      return consoleFacts(graphics);
    });
  }

  async describeConsole(uuid: string): Promise<ConsoleFacts> {
    return translateErrors(async () => consoleFacts(liveGraphics(await this.runningDomainXml(uuid, 'describe the console of'))));
  }

  async migrate(uuid: string, target: MigrationTarget): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, async () => {
      const before = await this.existingStatus(uuid);
      if (before.state !== 'running') throw invalidState(before, 'migrate');
      await this.writeMigrationId(uuid, target.migrationId);
      await this.connected().migrateDomain(uuid, {
        destinationUri: target.destinationUri,
        streamUri: migrationStreamUri(target.destinationAddress),
        bandwidthMiBPerSecond: target.bandwidthMiBPerSecond,
        unsafe: target.sharedStorage,
      });
      return this.currentStatus(uuid);
    });
  }

  async migrationJob(uuid: string): Promise<MigrationProgress | undefined> {
    const job = await translateErrors(() =>
      this.connected()
        .migrationJob(uuid)
        .catch((error: unknown) => {
          if (isLibvirtError(error) && noMigrationJobCodes.has(error.code)) return null;
          throw error;
        }),
    );
    if (!job) return undefined;
    return { dataTotalBytes: job.dataTotal, dataProcessedBytes: job.dataProcessed, dataRemainingBytes: job.dataRemaining, elapsedMs: job.timeElapsed };
  }

  async abortMigration(uuid: string): Promise<void> {
    return translateErrors(() => this.connected().abortMigration(uuid));
  }

  async migrationIdOf(uuid: string): Promise<string | undefined> {
    const metadata = await translateErrors(() => this.connected().domainMetadata(uuid, droverNamespace));
    // libvirt answers with the element stripped of its namespace: <vm>...<migration-id>...</migration-id></vm>.
    return metadata === null ? undefined : /<(?:[\w-]+:)?migration-id>([^<]*)<\//.exec(metadata)?.[1]?.trim() || undefined;
  }

  async prepareIncoming(spec: VmSpec): Promise<void> {
    return translateErrors(() => this.realizeDevices(spec));
  }

  /** Returns the domain's current XML description; for diagnostics and tests. */
  async domainXml(uuid: string, inactive = false): Promise<string> {
    return translateErrors(() => this.connected().domainXml(uuid, { inactive }));
  }

  /** Returns the libvirt network that realizes a Drover network, or undefined when the host has none; for diagnostics and tests. */
  async networkSummary(network: NetworkSpec): Promise<NetworkSummary | undefined> {
    const name = networkNameFor(network);
    return (await translateErrors(() => this.connected().listNetworks())).find((candidate) => candidate.name === name);
  }

  /** Returns the path the memory image of a suspended domain is saved at. */
  saveImagePath(uuid: string): string {
    return this.images.pathFor(uuid);
  }

  private async defineNow(spec: VmSpec, options: { thenCreate?: boolean } = {}, cloudInitSeed?: string): Promise<DomainStatus> {
    const design = designDomain(spec, this.domainType, this.mountRoot, this.options.displayAddress ?? defaultDisplayAddress, cloudInitSeed);
    const domain = await this.connected().defineDomain(serializeDomainXml(design), options);
    this.managedByUuid.set(spec.id, true);
    return this.toStatus(domain, true);
  }

  /**
   * Writes the migration id into the Drover metadata of the running domain,
   * and of its persistent definition where it has one (which the destination
   * keeps), so that it travels with the domain.
   */
  private async writeMigrationId(uuid: string, migrationId: string): Promise<void> {
    const metadata = readDroverMetadata(await this.connected().domainXml(uuid, { inactive: false }));
    if (!metadata) throw new DriverError('invalid_state', `domain ${uuid} carries no Drover metadata, so Drover does not migrate it`);
    const xml = serializeDroverMetadata({ ...metadata, migrationId });
    try {
      await this.connected().setDomainMetadata(uuid, xml, 'drover', droverNamespace, { live: true, config: true });
    } catch (error) {
      if (!isInvalidOperation(error)) throw error;
      await this.connected().setDomainMetadata(uuid, xml, 'drover', droverNamespace, { live: true });
    }
  }

  /** Prepares the storage domains and networks a VM's devices use. */
  private async realizeDevices(spec: VmSpec): Promise<void> {
    const storage = new Map(spec.disks.map((disk) => [disk.volume.storage.id, disk.volume.storage]));
    for (const domain of storage.values()) await this.ensurePool(domain);
    const networks = new Map(spec.nics.flatMap((nic) => (nic.network ? [[nic.network.id, nic.network] as const] : [])));
    for (const network of networks.values()) await this.ensureNetwork(network);
  }

  private async runningDomainXml(uuid: string, verb: string): Promise<string> {
    const status = await this.existingStatus(uuid);
    if (status.state !== 'running' && status.state !== 'paused') throw invalidState(status, verb);
    return this.connected().domainXml(uuid, { inactive: false });
  }

  private async mediumNow(uuid: string): Promise<MediumFacts> {
    return mediumOf(readCdrom(await this.runningDomainXml(uuid, 'read the CD-ROM medium of'), cdromAlias)?.path);
  }

  private deviceXml(spec: VmSpec, deviceId: string, takenTargets: ReadonlySet<string>): string {
    const disk = spec.disks.find((candidate) => candidate.diskId === deviceId);
    if (disk) return serializeDeviceXml({ disk: designDisks([disk], this.mountRoot, takenTargets)[0]! });
    const nic = spec.nics.find((candidate) => candidate.nicId === deviceId);
    if (nic) return serializeDeviceXml({ nic: designInterface(nic) });
    throw new DriverError('invalid_command', `the spec of VM ${spec.id} has no device ${deviceId}`);
  }

  /**
   * Checks the domain's directory and makes sure its pool is defined, built
   * and running. libvirt's build creates the images directory on hosts where
   * libvirtd does the writing; the agent creates it itself only where libvirt
   * did not (the test driver builds nothing).
   */
  private async ensurePool(storage: StorageSpec): Promise<void> {
    const base = storageDirectory(storage, this.mountRoot);
    try {
      await access(base);
    } catch {
      const hint = storage.kind === 'localfs' ? 'create it on the host' : 'mount the storage there (Drover does not mount storage itself)';
      throw new DriverError('storage_unreachable', `the directory ${base} of storage domain ${storage.id} does not exist on this host; ${hint}`);
    }
    const images = imagesDirectory(storage, this.mountRoot);
    const name = storagePoolName(storage.id);
    const connection = this.connected();
    const pool = (await connection.listStoragePools()).find((candidate) => candidate.name === name);
    if (!pool) await connection.defineStoragePool(serializePoolXml({ name, path: images }));
    if (!pool?.active) {
      await connection.buildStoragePool(name).catch((error: unknown) => {
        if (!(isLibvirtError(error) && error.code === ErrorCode.NO_SUPPORT)) throw error;
      });
      if (!(await volumeFiles.exists(images))) await mkdir(images, { recursive: true });
      await connection.startStoragePool(name);
    }
    this.preparedStorage.set(storage.id, images);
  }

  /** Learns the storage domains prepared before this driver opened from their pools, so their space is reported. */
  private async discoverPools(): Promise<void> {
    const connection = this.connected();
    for (const pool of await connection.listStoragePools()) {
      if (!pool.active || !pool.name.startsWith(storagePoolPrefix)) continue;
      const target = /<target>\s*<path>([^<]+)<\/path>/.exec(await connection.storagePoolXml(pool.name).catch(() => ''))?.[1];
      if (target) this.preparedStorage.set(pool.name.slice(storagePoolPrefix.length), target);
    }
  }

  private async usageOf(storage: StorageSpec): Promise<StorageUsage> {
    return { storageId: storage.id, ...(await volumeFiles.space(imagesDirectory(storage, this.mountRoot))) };
  }

  /**
   * Creates the volume through libvirt, and writes its file with qemu-img
   * when libvirt only recorded it (as the test driver does).
   */
  private async writeVolume(volume: VolumeSpec, file: string): Promise<void> {
    const pool = storagePoolName(volume.storage.id);
    const connection = this.connected();
    const backing = volume.backing ? { path: volumePath(volume.backing, this.mountRoot), format: volume.backing.format } : undefined;
    const source = volume.copyOf ? { path: volumePath(volume.copyOf, this.mountRoot), format: volume.copyOf.format } : undefined;
    if (backing && !(await volumeFiles.exists(backing.path))) throw new DriverError('hypervisor_failure', `the backing volume ${backing.path} does not exist on this host`);
    if (source && !(await volumeFiles.exists(source.path))) throw new DriverError('hypervisor_failure', `the volume to copy, ${source.path}, does not exist on this host`);
    const xml = serializeVolumeXml({
      name: volume.volumeId,
      format: volume.format,
      capacityBytes: volume.capacityBytes,
      allocationBytes: volume.sparse ? 0 : volume.capacityBytes,
      backing,
    });
    if (!(await connection.volumeInfo(pool, volume.volumeId))) {
      const sourceKnown = volume.copyOf && (await connection.volumeInfo(storagePoolName(volume.copyOf.storage.id), volume.copyOf.volumeId).catch(() => null));
      if (volume.copyOf && sourceKnown) await connection.cloneVolume(pool, xml, storagePoolName(volume.copyOf.storage.id), volume.copyOf.volumeId);
      else await connection.createVolume(pool, xml);
    }
    if (await volumeFiles.exists(file)) return;
    if (source) await volumeFiles.copy(source, file, { format: volume.format, sparse: volume.sparse });
    else await volumeFiles.create(file, { format: volume.format, capacityBytes: volume.capacityBytes, sparse: volume.sparse, backing });
  }

  /** The facts of a volume that already exists, when it is the one asked for. */
  private async existingVolume(volume: VolumeSpec, file: string): Promise<VolumeFacts> {
    const facts = await volumeFiles.info(file);
    if (facts.format !== volume.format || (!volume.copyOf && facts.virtualSizeBytes !== volume.capacityBytes)) {
      throw new DriverError('hypervisor_failure', `a different volume (${facts.format}, ${facts.virtualSizeBytes} bytes) already exists at ${file}`);
    }
    return { path: file, actualSizeBytes: await volumeFiles.actualSize(file) };
  }

  /** Rejects with `in_use` when a domain of this host refers to the volume, or a process holds the lock of its file. */
  private async refuseUsed(volume: VolumeRef): Promise<void> {
    const file = volumePath(volume, this.mountRoot);
    const users = await volumeUsers(this.connected(), { file, pool: storagePoolName(volume.storage.id), volume: volume.volumeId });
    if (users.length > 0) {
      const named = users.map((user) => `${user.name} (${user.running ? 'running' : 'defined'})`).join(', ');
      throw new DriverError('in_use', `domain ${named} has the volume ${file} as a disk; the volume is not deleted`);
    }
    if ((await volumeFiles.exists(file)) && (await volumeFiles.locked(file))) {
      throw new DriverError('in_use', `a process holds the lock of the volume ${file} (a guest runs with it, on this host or another that shares the storage); it is not deleted`);
    }
  }

  /**
   * Waits until the device has left the running domain: libvirt asks the
   * guest to release it and waits a few seconds itself, then reports success
   * even when the guest has not yet released it.
   */
  private async waitUntilReleased(uuid: string, deviceId: string, deadline: number): Promise<void> {
    const alias = deviceAlias(deviceId);
    for (let attempt = 0; ; attempt++) {
      if (!findDeviceXml(await this.connected().domainXml(uuid, { inactive: false }), alias)) return;
      if (Date.now() >= deadline) {
        const seconds = (this.options.unplugTimeoutMs ?? defaultUnplugTimeoutMs) / 1000;
        throw new DriverError('in_use', `the guest has not released device ${deviceId} within ${seconds} s, so it stays plugged in and defined (the guest's operating system must acknowledge the unplug of a PCI device; one that is not running, or refuses, does not); the request stays with the guest, and unplugging again once it released the device completes`);
      }
      await sleep(Math.min(50 * 2 ** attempt, 500, Math.max(deadline - Date.now(), 1)));
    }
  }

  /** Removes a volume from libvirt and from disk, whichever of the two has it. */
  private async discardVolume(volume: VolumeRef): Promise<void> {
    const connection = this.connected();
    const pool = storagePoolName(volume.storage.id);
    try {
      if (await connection.volumeInfo(pool, volume.volumeId)) await connection.deleteVolume(pool, volume.volumeId);
    } catch (error) {
      if (!(isLibvirtError(error) && (error.code === ErrorCode.NO_STORAGE_POOL || error.code === ErrorCode.NO_STORAGE_VOL))) throw error;
    }
    await rm(volumePath(volume, this.mountRoot), { force: true });
  }

  /**
   * Makes sure the libvirt network for a Drover network exists and runs: over
   * the host's bridge of the network's name when the host has one (its
   * administrator set up VLAN and MTU there), otherwise an isolated network
   * with a bridge of its own.
   */
  private async ensureNetwork(network: NetworkSpec): Promise<void> {
    const name = networkNameFor(network);
    if (this.realizedNetworks.has(name)) return;
    await this.changeNetwork(name, () => this.defineAndStartNetwork(network));
  }

  /** Runs a change of a libvirt network after the changes of it already under way. */
  private async changeNetwork(name: string, work: () => Promise<void>): Promise<void> {
    const change = (this.networkChanges.get(name) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.networkChanges.set(name, change);
    try {
      await change;
    } finally {
      if (this.networkChanges.get(name) === change) this.networkChanges.delete(name);
    }
  }

  private async defineAndStartNetwork(network: NetworkSpec): Promise<void> {
    const name = networkNameFor(network);
    if (this.realizedNetworks.has(name)) return;
    const connection = this.connected();
    const existing = (await connection.listNetworks()).find((candidate) => candidate.name === name);
    if (!existing) {
      const hostBridge = await access(`/sys/class/net/${network.name}/bridge`).then(
        () => true,
        () => false,
      );
      await connection.defineNetwork(serializeNetworkXml({ name, bridge: hostBridge ? network.name : bridgeNameFor(network), hostBridge, mtu: network.mtu }));
    }
    if (!existing?.active) await connection.startNetwork(name);
    this.realizedNetworks.add(name);
  }

  /** The name of an active domain with an interface on the libvirt network, as its live definition says. */
  private async activeDomainOnNetwork(name: string): Promise<string | undefined> {
    const connection = this.connected();
    const source = new RegExp(`<source\\s[^>]*network=(['"])${name}\\1`);
    for (const domain of await connection.listDomains()) {
      if (domain.state === DomainState.SHUTOFF) continue;
      const xml = await connection.domainXml(domain.uuid).catch((error: unknown) => {
        if (isLibvirtError(error) && error.code === ErrorCode.NO_DOMAIN) return '';
        throw error;
      });
      if (source.test(xml)) return domain.name;
    }
    return undefined;
  }

  private connected(): LibvirtConnection {
    if (!this.connection) throw new DriverError('hypervisor_failure', 'the libvirt connection is not open');
    return this.connection;
  }

  private domainChanged(uuid: string, hint: DomainChangeHint): void {
    if (this.managedByUuid.get(uuid) === false) this.managedByUuid.delete(uuid);
    for (const listener of this.changeListeners) {
      try {
        listener(uuid, hint);
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }

  /**
   * Performs one operation in one job. When the domain is not in a state the
   * operation allows, the domain's state is read to say which state it is in.
   */
  private async act(uuid: string, verb: string, operation: DomainOperation, requiredStates?: number[]): Promise<DomainStatus | undefined> {
    try {
      return await this.statusOf(await this.connected().domainOperation(uuid, operation, { requiredStates }));
    } catch (error) {
      if (!isInvalidOperation(error)) throw error;
      throw invalidState(await this.existingStatus(uuid), verb);
    }
  }

  /** Runs an operation on a domain, marked busy so that listings leave its memory image alone, after discarding the image if it is stale. */
  private async exclusively<T>(uuid: string, action: () => Promise<T>): Promise<T> {
    this.busy.set(uuid, (this.busy.get(uuid) ?? 0) + 1);
    try {
      return await translateErrors(async () => {
        await this.discardStaleImage(uuid);
        return action();
      });
    } finally {
      const remaining = (this.busy.get(uuid) ?? 1) - 1;
      if (remaining > 0) this.busy.set(uuid, remaining);
      else this.busy.delete(uuid);
    }
  }

  /** Discards the memory image of a domain that is active: someone started it from scratch, so the image is stale. */
  private async discardStaleImage(uuid: string): Promise<void> {
    if (!this.images.has(uuid)) return;
    const seenAt = this.images.tick();
    const domain = await this.connected().domainStatus(uuid);
    if (domain && activeStates.has(powerStateByLibvirtState[domain.state] ?? 'running') && this.images.recordedBefore(uuid, seenAt)) await this.images.discard(uuid);
  }

  private async restore(uuid: string): Promise<DomainStatus | undefined> {
    await this.connected().restoreDomain(this.images.pathFor(uuid));
    await this.images.discard(uuid);
    return this.currentStatus(uuid);
  }

  /** Waits until the domain is shut off or gone, and returns its last status (null once gone). */
  private async waitUntilInactive(uuid: string, timeoutMs: number): Promise<DomainInfo | null> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const domain = await this.connected().domainStatus(uuid);
      if (!domain || domain.state === DomainState.SHUTOFF) return domain;
      if (Date.now() >= deadline) throw new DriverError('timed_out', `domain ${domain.name} did not shut down within ${timeoutMs} ms`);
      await sleep(Math.min(25 * 2 ** attempt, 500, Math.max(deadline - Date.now(), 1)));
    }
  }

  private async currentStatus(uuid: string): Promise<DomainStatus | undefined> {
    return this.statusOf(await this.connected().domainStatus(uuid));
  }

  /** The domain's status, for an operation that found it in the wrong state or must look before acting. */
  private async existingStatus(uuid: string): Promise<DomainStatus> {
    const status = await this.currentStatus(uuid);
    if (!status) throw notFound(uuid);
    return status;
  }

  private async statusOf(domain: DomainInfo | null): Promise<DomainStatus | undefined> {
    if (!domain) return undefined;
    return this.toStatus(domain, await this.isManaged(domain));
  }

  private toStatus(domain: DomainInfo, managed: boolean): DomainStatus {
    const state = powerStateByLibvirtState[domain.state] ?? 'running';
    return {
      uuid: domain.uuid,
      name: domain.name,
      managed,
      state: state === 'shutoff' && this.images.has(domain.uuid) ? 'suspended' : state,
    };
  }

  /** Whether the domain is managed, when that is known without asking libvirt. */
  private knownManaged(domain: DomainInfo): boolean | undefined {
    return domain.name.startsWith(domainNamePrefix) ? this.managedByUuid.get(domain.uuid) : false;
  }

  /**
   * A domain is managed when its name has Drover's prefix and its current
   * definition (the live one while it runs, so a transient domain, one that
   * arrived by migration say, answers too) carries Drover metadata with its
   * own UUID. The answer is cached per UUID until the domain is undefined or
   * no longer listed, a negative one only until the domain's next lifecycle
   * event (it may be defined again, or arrive by migration). A domain that
   * vanished while asked reads as unmanaged and is asked again next time;
   * any other failure to ask rejects, so that no listing calls a Drover
   * domain foreign because a call failed.
   */
  private async isManaged(domain: DomainInfo): Promise<boolean> {
    const known = this.knownManaged(domain);
    if (known !== undefined) return known;
    let metadata: string | null;
    try {
      metadata = await this.connected().domainMetadata(domain.uuid, droverNamespace);
    } catch (error) {
      if (isLibvirtError(error) && error.code === ErrorCode.NO_DOMAIN) return false;
      throw error;
    }
    // libvirt answers with the element stripped of its namespace: <vm><id>...</id>...</vm>.
    const managed = metadata !== null && /<id>([^<]*)<\/id>/.exec(metadata)?.[1]?.trim() === domain.uuid;
    this.managedByUuid.set(domain.uuid, managed);
    return managed;
  }

  private async recheckVanished(listed: Map<string, DomainStatus>): Promise<void> {
    const vanished = [...this.lastListed].filter((uuid) => !listed.has(uuid));
    const rechecked = await Promise.all(vanished.map((uuid) => this.getDomain(uuid)));
    for (const status of rechecked) if (status) listed.set(status.uuid, status);
  }
}
