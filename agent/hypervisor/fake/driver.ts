import type { CommandErrorKind, DomainStatus, PowerState, StorageSpec, StorageUsage, VmSpec, VolumeFacts, VolumeRef, VolumeSpec } from '../../../shared/model.js';
import { DriverError, type DomainChangeHint, type DriverOperation, type HypervisorDriver, type NodeFacts } from '../driver.js';

interface FakeDomain {
  uuid: string;
  name: string;
  state: PowerState;
  managed: boolean;
  spec?: VmSpec;
}

type FailurePredicate = (operation: DriverOperation, uuid: string) => { kind: CommandErrorKind; message: string } | undefined;

const activeStates: ReadonlySet<PowerState> = new Set(['running', 'paused', 'shutting_down', 'crashed', 'pm_suspended']);

/**
 * An in-memory HypervisorDriver for unit tests. It follows the driver contract
 * and lets a test make operations fail, slow them down, count them, and change
 * domains behind the agent's back.
 */
export class FakeDriver implements HypervisorDriver {
  readonly calls: Record<DriverOperation, number> = {
    define: 0,
    start: 0,
    shutdown: 0,
    destroy: 0,
    resume: 0,
    suspend: 0,
    reboot: 0,
    undefine: 0,
    prepareStorage: 0,
    releaseStorage: 0,
    createVolume: 0,
    deleteVolume: 0,
    plugDevice: 0,
    unplugDevice: 0,
  };
  /** The volumes that exist, by storage domain id and volume id. */
  readonly volumes = new Map<string, VolumeSpec>();
  /** The storage domains prepared and not released, by id. */
  readonly preparedStorage = new Map<string, StorageSpec>();
  /** Whether devices can be plugged into running domains; the libvirt test driver cannot. */
  hotplug = true;
  listCalls = 0;
  /** How many times getDomain was called from outside the driver. */
  lookups = 0;
  opened = false;
  private readonly domains = new Map<string, FakeDomain>();
  private readonly pendingFailures: { operation: DriverOperation; kind: CommandErrorKind; message: string }[] = [];
  private failurePredicate?: FailurePredicate;
  private readonly delays = new Map<DriverOperation, number>();
  private guestIgnoresShutdown = false;
  private readonly changeListeners: ((uuid: string, hint: DomainChangeHint) => void)[] = [];

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  async nodeFacts(): Promise<NodeFacts> {
    return {
      hostname: 'fake-node',
      cpuCount: 8,
      cpuModel: 'x86_64',
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
    return [...this.domains.values()].map((domain) => this.statusOf(domain));
  }

  async getDomain(uuid: string): Promise<DomainStatus | undefined> {
    this.lookups++;
    return this.current(uuid);
  }

  private current(uuid: string): DomainStatus | undefined {
    const domain = this.domains.get(uuid);
    return domain ? this.statusOf(domain) : undefined;
  }

  async define(spec: VmSpec): Promise<DomainStatus> {
    await this.enter('define', spec.id);
    const existing = this.domains.get(spec.id);
    const domain: FakeDomain = { uuid: spec.id, name: `drover-${spec.id}`, state: existing?.state ?? 'shutoff', managed: true, spec };
    this.domains.set(spec.id, domain);
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
    if (this.guestIgnoresShutdown) throw new DriverError('timed_out', `domain ${domain.name} did not shut down within ${timeoutMs} ms`);
    domain.state = 'shutoff';
    return this.current(uuid);
  }

  async destroy(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('destroy', uuid);
    this.require(domain, 'destroy', [...activeStates, 'suspended']);
    domain.state = 'shutoff';
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

  async reboot(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('reboot', uuid);
    this.transition(domain, 'reboot', ['running'], 'running');
    return this.current(uuid);
  }

  async undefine(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.operate('undefine', uuid);
    this.require(domain, 'undefine', ['shutoff', 'suspended']);
    this.domains.delete(uuid);
    return this.current(uuid);
  }

  async prepareStorage(storage: StorageSpec): Promise<StorageUsage> {
    await this.enter('prepareStorage', storage.id);
    this.preparedStorage.set(storage.id, storage);
    return this.usageOf(storage.id);
  }

  async releaseStorage(storage: StorageSpec): Promise<void> {
    await this.enter('releaseStorage', storage.id);
    this.preparedStorage.delete(storage.id);
  }

  async storageUsage(): Promise<StorageUsage[]> {
    return [...this.preparedStorage.keys()].map((id) => this.usageOf(id));
  }

  async createVolume(volume: VolumeSpec): Promise<{ volume: VolumeFacts; usage: StorageUsage }> {
    await this.enter('createVolume', volume.volumeId);
    this.preparedStorage.set(volume.storage.id, volume.storage);
    const key = `${volume.storage.id}/${volume.volumeId}`;
    if (!this.volumes.has(key)) this.volumes.set(key, volume);
    return { volume: { path: `/fake/${key}`, actualSizeBytes: volume.sparse ? 0 : volume.capacityBytes }, usage: this.usageOf(volume.storage.id) };
  }

  async deleteVolume(volume: VolumeRef): Promise<StorageUsage> {
    await this.enter('deleteVolume', volume.volumeId);
    this.volumes.delete(`${volume.storage.id}/${volume.volumeId}`);
    return this.usageOf(volume.storage.id);
  }

  async plugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    return this.changeDevices('plugDevice', spec, deviceId, spec);
  }

  async unplugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    const remaining = { ...spec, disks: spec.disks.filter((disk) => disk.diskId !== deviceId), nics: spec.nics.filter((nic) => nic.nicId !== deviceId) };
    return this.changeDevices('unplugDevice', spec, deviceId, remaining);
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

  /** Makes shutdown and reboot behave like a guest that ignores ACPI power-off. */
  ignoreShutdown(ignore = true): void {
    this.guestIgnoresShutdown = ignore;
  }

  /** Adds a domain as if someone defined it outside Drover (or Drover before a restart). */
  addDomain(status: DomainStatus): void {
    this.domains.set(status.uuid, { ...status });
  }

  /** Changes a domain's state behind the agent's back. */
  setState(uuid: string, state: PowerState): void {
    const domain = this.domains.get(uuid);
    if (!domain) throw new Error(`no fake domain ${uuid}`);
    domain.state = state;
  }

  /** Removes a domain behind the agent's back. */
  removeDomain(uuid: string): void {
    this.domains.delete(uuid);
  }

  /** Tells the onDomainChange listeners that the domain changed, as a hypervisor's event would; changes never do it on their own. */
  reportChange(uuid: string, hint?: DomainChangeHint): void {
    for (const listener of this.changeListeners) listener(uuid, hint);
  }

  specOf(uuid: string): VmSpec | undefined {
    return this.domains.get(uuid)?.spec;
  }

  private async changeDevices(operation: 'plugDevice' | 'unplugDevice', spec: VmSpec, deviceId: string, next: VmSpec): Promise<DomainStatus | undefined> {
    const domain = await this.operate(operation, spec.id);
    this.require(domain, operation, ['running', 'paused']);
    if (!this.hotplug) throw new DriverError('not_supported', `this hypervisor cannot ${operation === 'plugDevice' ? 'plug' : 'unplug'} device ${deviceId} while the domain runs`);
    domain.spec = next;
    return this.current(spec.id);
  }

  private usageOf(storageId: string): StorageUsage {
    const used = [...this.volumes.values()].filter((volume) => volume.storage.id === storageId).reduce((sum, volume) => sum + (volume.sparse ? 0 : volume.capacityBytes), 0);
    return { storageId, availableBytes: 2 ** 40 - used, usedBytes: used };
  }

  private statusOf(domain: FakeDomain): DomainStatus {
    return { uuid: domain.uuid, name: domain.name, state: domain.state, managed: domain.managed };
  }

  private async enter(operation: DriverOperation, uuid: string): Promise<void> {
    this.calls[operation]++;
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
    domain.state = next;
  }
}
