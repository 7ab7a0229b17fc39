import type {
  CommandErrorKind,
  DomainStatus,
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
import { DriverError, driverOperations, type DomainChangeHint, type DriverOperation, type HypervisorDriver, type NodeFacts } from '../driver.js';

interface FakeDomain {
  uuid: string;
  name: string;
  state: PowerState;
  managed: boolean;
  spec?: VmSpec;
  /** The migration id in the domain's Drover metadata. */
  migrationId?: string;
  /** The outgoing migration job of the domain, while one runs. */
  migration?: FakeMigration;
}

interface FakeMigration {
  startedAt: number;
  totalBytes: number;
  processedBytes: number;
  remainingBytes: number;
  /** Set by abortMigration; the migration then fails at its next step. */
  aborted: boolean;
  /** Set once the last step began: the hypervisor no longer aborts the migration. */
  switchingOver: boolean;
}

/** How a fake migration advances: `steps` steps of `stepMs` each, moving `totalBytes` in all. */
export interface FakeMigrationTiming {
  steps: number;
  stepMs: number;
  totalBytes: number;
}

/** The fake hosts that take incoming migrations, by the migration URI they were given. */
const migrationDestinations = new Map<string, FakeDriver>();

type FailurePredicate = (operation: DriverOperation, uuid: string) => { kind: CommandErrorKind; message: string } | undefined;

export interface FakeDriverOptions {
  /** Whether devices can be plugged into running domains, as `hotplug` (true unless told otherwise). */
  hotplug?: boolean;
  /**
   * Whether the fake reports its own changes and those made behind its back to
   * onDomainChange listeners, with the hints libvirt's events carry. Without
   * it (the default) only reportChange calls the listeners.
   */
  events?: boolean;
  /** The size of every storage domain (1 TiB unless told otherwise). */
  storageBytes?: number;
  /**
   * The URI other fake drivers migrate domains to this one at (as a
   * MigrationTarget's destinationUri), while this driver is open; without
   * it, nothing migrates here.
   */
  migrationUri?: string;
  /** How migrations from this driver advance; 4 steps of 10 ms moving 512 MiB unless told otherwise. */
  migration?: Partial<FakeMigrationTiming>;
}

const activeStates: ReadonlySet<PowerState> = new Set(['running', 'paused', 'shutting_down', 'crashed', 'pm_suspended']);

function hintOf(state: PowerState): DomainChangeHint {
  return state === 'running' || state === 'paused' ? state : undefined;
}

function volumeKey(volume: VolumeRef): string {
  return `${volume.storage.id}/${volume.volumeId}`;
}

/**
 * An in-memory HypervisorDriver for unit tests. It follows the driver contract
 * and lets a test make operations fail, slow them down, count them, and change
 * domains and storage behind the agent's back. The fake is its own host: a
 * driver closed and opened again finds the host as it was.
 */
export class FakeDriver implements HypervisorDriver {
  readonly calls = Object.fromEntries(driverOperations.map((operation) => [operation, 0])) as Record<DriverOperation, number>;
  /** The volumes that exist, by storage domain id and volume id. */
  readonly volumes = new Map<string, VolumeSpec>();
  /** The storage domains prepared and not released, by id. */
  readonly preparedStorage = new Map<string, StorageSpec>();
  /** The networks that exist on the fake host, by network id. */
  readonly networks = new Map<string, NetworkSpec>();
  /** Whether devices can be plugged into running domains; the libvirt test driver cannot. */
  hotplug: boolean;
  listCalls = 0;
  /** How many times getDomain was called from outside the driver. */
  lookups = 0;
  opened = false;
  private readonly events: boolean;
  private readonly storageBytes: number;
  private readonly domains = new Map<string, FakeDomain>();
  private readonly missingDirectories = new Set<string>();
  private readonly pendingFailures: { operation: DriverOperation; kind: CommandErrorKind; message: string }[] = [];
  private failurePredicate?: FailurePredicate;
  private readonly delays = new Map<DriverOperation, number>();
  private guestIgnoresShutdown = false;
  private guestIgnoresReboot = false;
  private readonly changeListeners: ((uuid: string, hint: DomainChangeHint) => void)[] = [];
  private readonly stateWatchers = new Set<() => void>();
  private hypervisorDown = false;
  private connectionDead = false;
  private readonly migrationUri?: string;
  /** How migrations from this driver advance; tests may change it between migrations. */
  migrationTiming: FakeMigrationTiming;
  private migrationsStalled = false;

  constructor(options: FakeDriverOptions = {}) {
    this.hotplug = options.hotplug ?? true;
    this.events = options.events ?? false;
    this.storageBytes = options.storageBytes ?? 2 ** 40;
    this.migrationUri = options.migrationUri;
    this.migrationTiming = { steps: 4, stepMs: 10, totalBytes: 512 * 2 ** 20, ...options.migration };
  }

  async open(): Promise<void> {
    if (this.hypervisorDown) throw new DriverError('hypervisor_failure', 'Failed to connect socket: Connection refused');
    this.connectionDead = false;
    this.opened = true;
    if (this.migrationUri) migrationDestinations.set(this.migrationUri, this);
  }

  /** Whether the connection is open and alive, as libvirt's virConnectIsAlive tells; false from stopHypervisor until an open after startHypervisor. */
  isAlive(): boolean {
    return this.opened && !this.connectionDead;
  }

  /** Answers a ping, after pingDelayMs (a hung daemon, while it is long). */
  async ping(): Promise<void> {
    if (this.pingDelayMs) await new Promise((resolve) => setTimeout(resolve, this.pingDelayMs));
    this.checkConnection();
  }

  /** How long pings wait for their answer; 0 unless a test sets it. */
  pingDelayMs = 0;

  /**
   * Makes the hypervisor go away, as a stopped libvirtd does: the connection
   * dies, every call but close rejects with `hypervisor_failure` as libvirt's
   * do on a closed connection, and open rejects until startHypervisor.
   * Domains stay as they are.
   */
  stopHypervisor(): void {
    this.hypervisorDown = true;
    this.connectionDead = true;
  }

  /** Brings the hypervisor back: open succeeds again, on a new connection (the dead one stays dead). */
  startHypervisor(): void {
    this.hypervisorDown = false;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  /** Stops taking incoming migrations, as a host whose hypervisor went away; open takes them again. */
  withdrawFromMigrations(): void {
    if (this.migrationUri && migrationDestinations.get(this.migrationUri) === this) migrationDestinations.delete(this.migrationUri);
  }

  async nodeFacts(): Promise<NodeFacts> {
    this.checkConnection();
    return {
      hostname: 'fake-node',
      cpuCount: 8,
      cpuModel: 'x86_64',
      domainType: 'test',
      memoryBytes: 16 * 2 ** 30,
      libvirtVersion: '9.0.0',
      hypervisorType: 'FAKE',
      hypervisorVersion: '',
      uri: 'fake:///',
    };
  }

  onDomainChange(listener: (uuid: string, hint: DomainChangeHint) => void): void {
    this.changeListeners.push(listener);
  }

  async listDomains(): Promise<DomainStatus[]> {
    this.listCalls++;
    this.checkConnection();
    return [...this.domains.values()].map((domain) => this.statusOf(domain));
  }

  async getDomain(uuid: string): Promise<DomainStatus | undefined> {
    this.lookups++;
    this.checkConnection();
    return this.current(uuid);
  }

  async define(spec: VmSpec): Promise<DomainStatus> {
    await this.enter('define', spec.id);
    for (const disk of spec.disks) this.prepare(disk.volume.storage);
    for (const nic of spec.nics) if (nic.network) this.networks.set(nic.network.id, nic.network);
    const existing = this.domains.get(spec.id);
    const domain: FakeDomain = { uuid: spec.id, name: `drover-${spec.id}`, state: existing?.state ?? 'shutoff', managed: true, spec };
    this.domains.set(spec.id, domain);
    this.changed(spec.id, 'definition');
    return this.statusOf(domain);
  }

  async start(uuid: string, spec?: VmSpec): Promise<DomainStatus | undefined> {
    if (spec) await this.define(spec);
    const domain = await this.operate('start', uuid);
    this.transition(domain, 'start', ['shutoff', 'suspended'], 'running');
    return this.current(uuid);
  }

  async shutdown(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined> {
    const domain = await this.operate('shutdown', uuid);
    this.require(domain, 'shutdown', ['running', 'shutting_down']);
    if (domain.state === 'running' && !this.guestIgnoresShutdown) this.enterState(domain, 'shutoff');
    else await this.untilInactive(domain, timeoutMs);
    return this.current(uuid);
  }

  async destroy(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('destroy', uuid);
    this.transition(domain, 'destroy', [...activeStates, 'suspended'], 'shutoff');
    return this.current(uuid);
  }

  async resume(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('resume', uuid);
    this.transition(domain, 'resume', ['paused', 'pm_suspended', 'suspended'], 'running');
    return this.current(uuid);
  }

  async suspend(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('suspend', uuid);
    this.transition(domain, 'suspend', ['running', 'paused'], 'suspended');
    return this.current(uuid);
  }

  async reboot(uuid: string, timeoutMs: number): Promise<{ domain: DomainStatus | undefined; reboot: RebootFacts }> {
    const domain = await this.operate('reboot', uuid);
    this.require(domain, 'reboot', ['running']);
    if (!this.guestIgnoresReboot) return { domain: this.current(uuid), reboot: { reset: false, waitedMs: 0 } };
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    this.require(domain, 'reboot', ['running']);
    return { domain: this.current(uuid), reboot: { reset: true, waitedMs: timeoutMs } };
  }

  async reset(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('reset', uuid);
    this.require(domain, 'reset', ['running']);
    return this.current(uuid);
  }

  async prepareNetwork(network: NetworkSpec): Promise<void> {
    await this.enter('prepareNetwork', network.id);
    this.networks.set(network.id, network);
  }

  async releaseNetwork(network: NetworkSpec): Promise<void> {
    await this.enter('releaseNetwork', network.id);
    const user = [...this.domains.values()].find((domain) => activeStates.has(domain.state) && domain.spec?.nics.some((nic) => nic.network?.id === network.id));
    if (user) throw new DriverError('invalid_state', `network ${network.name} is used by the running domain ${user.name}`);
    this.networks.delete(network.id);
  }

  async undefine(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('undefine', uuid);
    this.require(domain, 'undefine', ['shutoff', 'suspended']);
    this.forget(uuid);
    return this.current(uuid);
  }

  async prepareStorage(storage: StorageSpec): Promise<StorageUsage> {
    await this.enter('prepareStorage', storage.id);
    this.prepare(storage);
    return this.usageOf(storage.id);
  }

  async releaseStorage(storage: StorageSpec): Promise<void> {
    await this.enter('releaseStorage', storage.id);
    this.preparedStorage.delete(storage.id);
  }

  async storageUsage(): Promise<StorageUsage[]> {
    return [...this.preparedStorage.values()].filter((storage) => !this.missingDirectories.has(storage.path)).map((storage) => this.usageOf(storage.id));
  }

  async createVolume(volume: VolumeSpec): Promise<{ volume: VolumeFacts; usage: StorageUsage }> {
    await this.enter('createVolume', volume.volumeId);
    this.prepare(volume.storage);
    const key = volumeKey(volume);
    const existing = this.volumes.get(key);
    if (existing && (existing.format !== volume.format || (!volume.copyOf && existing.capacityBytes !== volume.capacityBytes))) {
      throw new DriverError('hypervisor_failure', `a different volume (${existing.format}, ${existing.capacityBytes} bytes) already exists at ${key}`);
    }
    if (!existing) {
      for (const source of [volume.backing, volume.copyOf]) {
        if (source && !this.volumes.has(volumeKey(source))) throw new DriverError('hypervisor_failure', `the volume ${volumeKey(source)} does not exist on this host`);
      }
      const { availableBytes } = this.usageOf(volume.storage.id);
      if (!volume.sparse && volume.capacityBytes > availableBytes) {
        throw new DriverError('no_space', `storage domain ${volume.storage.id} has ${availableBytes} bytes free, the volume needs ${volume.capacityBytes}`);
      }
      this.volumes.set(key, volume);
    }
    const created = this.volumes.get(key)!;
    return { volume: { path: `/fake/${key}`, actualSizeBytes: created.sparse ? 0 : created.capacityBytes }, usage: this.usageOf(volume.storage.id) };
  }

  async deleteVolume(volume: VolumeRef): Promise<StorageUsage> {
    await this.enter('deleteVolume', volume.volumeId);
    this.refuseUsed(volume);
    this.volumes.delete(volumeKey(volume));
    return this.usageOf(volume.storage.id);
  }

  async checkVolumeUnused(volume: VolumeRef): Promise<void> {
    await this.enter('checkVolumeUnused', volume.volumeId);
    this.refuseUsed(volume);
  }

  async plugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    return this.changeDevices('plugDevice', spec, deviceId, spec);
  }

  async unplugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    const remaining = { ...spec, disks: spec.disks.filter((disk) => disk.diskId !== deviceId), nics: spec.nics.filter((nic) => nic.nicId !== deviceId) };
    return this.changeDevices('unplugDevice', spec, deviceId, remaining);
  }

  /**
   * Migrates the domain to the fake driver registered at the destination URI
   * step by step (see FakeMigrationTiming): meanwhile the destination holds a
   * paused copy with the migration id, as libvirt's destination does; at the
   * end the copy runs there, persistent, and the domain is gone here. An
   * aborted migration, or one to a URI no open fake driver has, fails with
   * `hypervisor_failure` and leaves the domain running here. The migration
   * goes on when the driver is closed.
   */
  async migrate(uuid: string, target: MigrationTarget): Promise<DomainStatus | undefined> {
    const domain = await this.operate('migrate', uuid);
    this.require(domain, 'migrate', ['running']);
    if (!domain.managed) throw new DriverError('invalid_state', `domain ${domain.name} carries no Drover metadata, so Drover does not migrate it`);
    if (domain.migration) throw new DriverError('invalid_state', `domain ${domain.name} is migrating already`);
    domain.migrationId = target.migrationId;
    const destination = migrationDestinations.get(target.destinationUri);
    if (!destination || destination === this || !destination.opened) throw new DriverError('hypervisor_failure', `cannot connect to the destination ${target.destinationUri}`);
    if (destination.domains.has(uuid)) throw new DriverError('hypervisor_failure', `the destination already has a domain with UUID ${uuid}`);
    const { steps, stepMs, totalBytes } = this.migrationTiming;
    const job: FakeMigration = { startedAt: Date.now(), totalBytes, processedBytes: 0, remainingBytes: totalBytes, aborted: false, switchingOver: false };
    domain.migration = job;
    const incoming: FakeDomain = { uuid, name: domain.name, state: 'paused', managed: true, spec: domain.spec, migrationId: target.migrationId };
    destination.domains.set(uuid, incoming);
    destination.changed(uuid, 'paused');
    try {
      for (let step = 1; ; ) {
        await new Promise((resolve) => setTimeout(resolve, stepMs));
        if (job.aborted) throw new DriverError('hypervisor_failure', "operation aborted: job 'migration out' canceled by client");
        if (this.migrationsStalled) continue;
        const moved = Math.min(job.remainingBytes, Math.ceil(totalBytes / steps));
        job.processedBytes += moved;
        job.remainingBytes -= moved;
        if (step === steps - 1) job.switchingOver = true;
        if (step++ >= steps) break;
      }
    } catch (error) {
      if (destination.domains.get(uuid) === incoming) destination.forget(uuid);
      throw error;
    } finally {
      domain.migration = undefined;
    }
    if (destination.domains.get(uuid) === incoming) destination.enterState(incoming, 'running');
    if (this.domains.get(uuid) === domain) this.forget(uuid);
    return this.current(uuid);
  }

  async migrationJob(uuid: string): Promise<MigrationProgress | undefined> {
    this.checkConnection();
    const job = this.domains.get(uuid)?.migration;
    if (!job) return undefined;
    return { dataTotalBytes: job.totalBytes, dataProcessedBytes: job.processedBytes, dataRemainingBytes: job.remainingBytes, elapsedMs: Date.now() - job.startedAt };
  }

  async abortMigration(uuid: string): Promise<void> {
    const domain = await this.operate('abortMigration', uuid);
    if (!domain.migration) throw new DriverError('invalid_state', `no outgoing migration job of domain ${domain.name} runs`);
    if (domain.migration.switchingOver) throw new DriverError('invalid_state', `the migration of domain ${domain.name} is switching over and can no longer be aborted`);
    domain.migration.aborted = true;
  }

  async migrationIdOf(uuid: string): Promise<string | undefined> {
    this.checkConnection();
    const domain = this.domains.get(uuid);
    if (!domain) throw new DriverError('domain_not_found', `no domain with uuid ${uuid}`);
    return domain.migrationId;
  }

  async prepareIncoming(spec: VmSpec): Promise<void> {
    await this.enter('prepareIncoming', spec.id);
    for (const disk of spec.disks) this.prepare(disk.volume.storage);
    for (const nic of spec.nics) if (nic.network) this.networks.set(nic.network.id, nic.network);
  }

  /** Makes the migrations from this driver stop advancing (their remaining data stays) until called with false. */
  stallMigrations(stalled = true): void {
    this.migrationsStalled = stalled;
  }

  /** Writes a migration id into a domain's metadata behind the agent's back, as a migration that failed half way leaves it. */
  setMigrationId(uuid: string, migrationId: string | undefined): void {
    const domain = this.domains.get(uuid);
    if (!domain) throw new Error(`no fake domain ${uuid}`);
    domain.migrationId = migrationId;
  }

  /** Makes the next call of the operation reject with the given kind. */
  failNext(operation: DriverOperation, kind: CommandErrorKind, message: string): void {
    this.pendingFailures.push({ operation, kind, message });
  }

  /** Makes every call for which the predicate returns a failure reject with it; undefined removes the predicate. */
  failWhen(predicate: FailurePredicate | undefined): void {
    this.failurePredicate = predicate;
  }

  /** Makes every call of the operation take the given time before it acts. */
  delay(operation: DriverOperation, ms: number): void {
    this.delays.set(operation, ms);
  }

  /** Makes shutdown behave like a guest that ignores ACPI power-off: it waits its whole timeout for someone else to stop the domain. */
  ignoreShutdown(ignore = true): void {
    this.guestIgnoresShutdown = ignore;
  }

  /** Makes reboot behave like a guest that ignores the request: the domain is reset once the reboot timeout has passed. */
  ignoreReboot(ignore = true): void {
    this.guestIgnoresReboot = ignore;
  }

  /** Adds a domain as if someone defined it outside Drover (or Drover before a restart); with a spec, that is its definition. */
  addDomain(status: DomainStatus, spec?: VmSpec): void {
    this.domains.set(status.uuid, { ...status, spec });
    this.changed(status.uuid, 'definition');
  }

  /** Changes a domain's state behind the agent's back. */
  setState(uuid: string, state: PowerState): void {
    const domain = this.domains.get(uuid);
    if (!domain) throw new Error(`no fake domain ${uuid}`);
    this.enterState(domain, state);
  }

  /** Removes a domain behind the agent's back. */
  removeDomain(uuid: string): void {
    this.forget(uuid);
  }

  /** Makes the directory `path` missing on the fake host, as if it was unmounted or deleted: storage domains there are unreachable. */
  removeStorageDirectory(path: string): void {
    this.missingDirectories.add(path);
  }

  /** Tells the onDomainChange listeners that the domain changed, as a hypervisor's event would. */
  reportChange(uuid: string, hint?: DomainChangeHint): void {
    for (const listener of this.changeListeners) listener(uuid, hint);
  }

  specOf(uuid: string): VmSpec | undefined {
    return this.domains.get(uuid)?.spec;
  }

  private current(uuid: string): DomainStatus | undefined {
    const domain = this.domains.get(uuid);
    return domain ? this.statusOf(domain) : undefined;
  }

  private async changeDevices(operation: 'plugDevice' | 'unplugDevice', spec: VmSpec, deviceId: string, next: VmSpec): Promise<DomainStatus | undefined> {
    const domain = await this.operate(operation, spec.id);
    this.require(domain, operation, ['running', 'paused']);
    if (!this.hotplug) throw new DriverError('not_supported', `this hypervisor cannot ${operation === 'plugDevice' ? 'plug' : 'unplug'} device ${deviceId} while the domain runs`);
    domain.spec = next;
    this.changed(spec.id, 'definition');
    return this.current(spec.id);
  }

  private refuseUsed(volume: VolumeRef): void {
    const key = volumeKey(volume);
    const users = [...this.domains.values()].filter((domain) => domain.spec?.disks.some((disk) => volumeKey(disk.volume) === key)).map((domain) => domain.name);
    if (users.length) throw new DriverError('in_use', `volume ${key} is used by domain ${users.join(', ')}; it was not deleted`);
  }

  private prepare(storage: StorageSpec): void {
    if (this.missingDirectories.has(storage.path)) throw new DriverError('storage_unreachable', `the directory ${storage.path} of storage domain ${storage.id} does not exist on this host`);
    this.preparedStorage.set(storage.id, storage);
  }

  private usageOf(storageId: string): StorageUsage {
    const used = [...this.volumes.values()].filter((volume) => volume.storage.id === storageId).reduce((sum, volume) => sum + (volume.sparse ? 0 : volume.capacityBytes), 0);
    return { storageId, availableBytes: this.storageBytes - used, usedBytes: used };
  }

  private statusOf(domain: FakeDomain): DomainStatus {
    return { uuid: domain.uuid, name: domain.name, state: domain.state, managed: domain.managed };
  }

  private checkConnection(): void {
    if (this.connectionDead) throw new DriverError('hypervisor_failure', 'internal error: client socket is closed');
  }

  private async enter(operation: DriverOperation, uuid: string): Promise<void> {
    this.calls[operation]++;
    this.checkConnection();
    const delay = this.delays.get(operation);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    const index = this.pendingFailures.findIndex((failure) => failure.operation === operation);
    if (index >= 0) {
      const [failure] = this.pendingFailures.splice(index, 1);
      throw new DriverError(failure.kind, failure.message);
    }
    const failure = this.failurePredicate?.(operation, uuid);
    if (failure) throw new DriverError(failure.kind, failure.message);
  }

  private async operate(operation: DriverOperation, uuid: string): Promise<FakeDomain> {
    await this.enter(operation, uuid);
    const domain = this.domains.get(uuid);
    if (!domain) throw new DriverError('domain_not_found', `no domain with uuid ${uuid}`);
    return domain;
  }

  private require(domain: FakeDomain, operation: DriverOperation, allowed: readonly PowerState[]): void {
    if (!allowed.includes(domain.state)) throw new DriverError('invalid_state', `cannot ${operation} domain ${domain.name}: it is ${domain.state}`);
  }

  private transition(domain: FakeDomain, operation: DriverOperation, allowed: readonly PowerState[], next: PowerState): void {
    this.require(domain, operation, allowed);
    this.enterState(domain, next);
  }

  private enterState(domain: FakeDomain, state: PowerState): void {
    domain.state = state;
    this.changed(domain.uuid, hintOf(state));
  }

  private forget(uuid: string): void {
    this.domains.delete(uuid);
    this.changed(uuid, undefined);
  }

  private changed(uuid: string, hint: DomainChangeHint): void {
    for (const watcher of this.stateWatchers) watcher();
    if (this.events) this.reportChange(uuid, hint);
  }

  /** Resolves once the domain is no longer active (someone else stopped it), or rejects with timed_out after timeoutMs. */
  private untilInactive(domain: FakeDomain, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (error?: DriverError) => {
        clearTimeout(timer);
        this.stateWatchers.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (this.domains.get(domain.uuid) !== domain || !activeStates.has(domain.state)) settle();
      };
      const timer = setTimeout(() => settle(new DriverError('timed_out', `domain ${domain.name} did not shut down within ${timeoutMs} ms`)), timeoutMs);
      this.stateWatchers.add(check);
      check();
    });
  }
}
