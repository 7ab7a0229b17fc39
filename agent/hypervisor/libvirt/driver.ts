import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectListAllDomainsFlags, DomainGetXMLDescFlags, DomainState, Hypervisor, type Domain } from '@unraid/libvirt';
import type { DomainStatus, PowerState, VmSpec } from '../../../shared/model.js';
import { DriverError, type HypervisorDriver, type NodeFacts } from '../driver.js';
import { designDomain, domainNamePrefix, hypervisorKindOf, type HypervisorKind } from './designer.js';
import { readDroverMetadata, serializeDomainXml } from './domain-xml.js';
import { toDriverError, translateErrors } from './errors.js';
import { hypervisorTypeOf, loadedLibvirtVersion } from './node-facts.js';
import { SaveImages } from './save-images.js';

export interface LibvirtDriverOptions {
  uri: string;
  dataDir: string;
}

interface Identity {
  uuid: string;
  name: string;
  managed: boolean;
}

const powerStateByLibvirtState: Record<DomainState, PowerState> = {
  [DomainState.NOSTATE]: 'running',
  [DomainState.RUNNING]: 'running',
  [DomainState.BLOCKED]: 'running',
  [DomainState.PAUSED]: 'paused',
  [DomainState.SHUTDOWN]: 'shutting_down',
  [DomainState.SHUTOFF]: 'shutoff',
  [DomainState.CRASHED]: 'crashed',
  [DomainState.PMSUSPENDED]: 'pm_suspended',
};

const activeStates: ReadonlySet<PowerState> = new Set(['running', 'paused', 'shutting_down', 'crashed', 'pm_suspended']);

function invalidState(status: DomainStatus, operation: string): DriverError {
  return new DriverError('invalid_state', `cannot ${operation} domain ${status.name}: it is ${status.state}`);
}

async function ignoringFailure<T>(operation: () => Promise<T>): Promise<T | undefined> {
  try {
    return await operation();
  } catch {
    return undefined;
  }
}

export class LibvirtDriver implements HypervisorDriver {
  private connection?: Hypervisor;
  private readonly kind: HypervisorKind;
  private readonly images: SaveImages;
  private readonly identityById = new Map<number, Identity>();
  private readonly identityByName = new Map<string, Identity>();
  private readonly managedByUuid = new Map<string, boolean>();
  private readonly busy = new Map<string, number>();
  private lastListed = new Set<string>();

  constructor(private readonly options: LibvirtDriverOptions) {
    this.kind = hypervisorKindOf(options.uri);
    this.images = new SaveImages(path.join(options.dataDir, 'saved-memory'));
  }

  async open(): Promise<void> {
    await this.images.load();
    const connection = new Hypervisor({ uri: this.options.uri });
    await translateErrors(() => connection.connectOpen());
    this.connection = connection;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await translateErrors(() => connection.connectClose());
  }

  async nodeFacts(): Promise<NodeFacts> {
    const connection = this.connected();
    const [info, hostname, libvirtVersion] = await translateErrors(() =>
      Promise.all([connection.nodeGetInfo(), connection.connectGetHostname(), loadedLibvirtVersion()]),
    );
    return {
      hostname,
      cpuCount: info.cpus,
      cpuModel: info.model,
      memoryBytes: info.memory * 1024,
      libvirtVersion,
      hypervisorType: hypervisorTypeOf(this.options.uri),
      hypervisorVersion: '',
      uri: this.options.uri,
    };
  }

  async listDomains(): Promise<DomainStatus[]> {
    const connection = this.connected();
    const listedAt = this.images.tick();
    const [activeIds, inactiveNames, paused, other] = await translateErrors(() =>
      Promise.all([
        connection.connectListDomains(),
        connection.connectListDefinedDomains(),
        connection.connectListAllDomains(ConnectListAllDomainsFlags.PAUSED),
        connection.connectListAllDomains(ConnectListAllDomainsFlags.OTHER),
      ]),
    );
    const stateById = await this.unusualStates(paused, other);
    const listed = new Map<string, DomainStatus>();

    const activeIdentities = await Promise.all(activeIds.map((id) => this.identityOfId(id)));
    for (const [index, identity] of activeIdentities.entries()) {
      if (!identity) continue;
      const state = stateById.get(activeIds[index]) ?? 'running';
      if (this.images.recordedBefore(identity.uuid, listedAt) && !this.busy.has(identity.uuid)) await this.images.discard(identity.uuid);
      listed.set(identity.uuid, { ...identity, state });
    }

    const inactiveIdentities = await Promise.all(inactiveNames.map((name) => this.identityOfName(name)));
    for (const identity of inactiveIdentities) {
      if (!identity || listed.has(identity.uuid)) continue;
      listed.set(identity.uuid, { ...identity, state: this.images.has(identity.uuid) ? 'suspended' : 'shutoff' });
    }

    this.forgetIdentitiesExcept(activeIds, inactiveNames);
    await this.recheckVanished(listed);
    this.lastListed = new Set(listed.keys());
    return [...listed.values()];
  }

  async getDomain(uuid: string): Promise<DomainStatus | undefined> {
    const domain = await this.lookupOrUndefined(uuid);
    if (!domain) return undefined;
    const status = await ignoringFailure(() => this.statusOf(domain));
    if (status && activeStates.has(status.state) && this.images.has(uuid) && !this.busy.has(uuid)) await this.images.discard(uuid);
    return status;
  }

  async define(spec: VmSpec): Promise<DomainStatus> {
    const connection = this.connected();
    const xml = serializeDomainXml(designDomain(spec, this.kind));
    return this.exclusively(spec.id, async () => {
      const domain = await connection.domainDefineXML(xml);
      this.managedByUuid.set(spec.id, true);
      this.forgetIdentity(spec.id);
      return this.statusOf(domain);
    });
  }

  async start(uuid: string): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state === 'suspended') return this.restore(uuid);
      if (status.state !== 'shutoff') throw invalidState(status, 'start');
      await this.connected().domainCreate(domain);
    });
  }

  async shutdown(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state === 'running') await this.connected().domainShutdown(domain);
      else if (status.state !== 'shutting_down') throw invalidState(status, 'shut down');
      await this.waitUntilInactive(domain, status, timeoutMs);
    });
  }

  async destroy(uuid: string): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state === 'suspended') return this.images.discard(uuid);
      if (!activeStates.has(status.state)) throw invalidState(status, 'destroy');
      await this.connected().domainDestroy(domain);
    });
  }

  async pause(uuid: string): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state !== 'running') throw invalidState(status, 'pause');
      await this.connected().domainSuspend(domain);
    });
  }

  async resume(uuid: string): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state === 'paused') return this.connected().domainResume(domain);
      if (status.state === 'pm_suspended') return this.connected().domainPMWakeup(domain);
      if (status.state === 'suspended') return this.restore(uuid);
      throw invalidState(status, 'resume');
    });
  }

  async suspend(uuid: string): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state !== 'running' && status.state !== 'paused') throw invalidState(status, 'suspend');
      const file = this.images.pathFor(uuid);
      await mkdir(path.dirname(file), { recursive: true });
      try {
        await this.connected().domainSave(domain, file);
      } catch (error) {
        await rm(file, { force: true });
        throw error;
      }
      this.images.record(uuid);
    });
  }

  async reboot(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (status.state !== 'running') throw invalidState(status, 'reboot');
      const connection = this.connected();
      await connection.domainShutdown(domain);
      try {
        await this.waitUntilInactive(domain, status, timeoutMs);
      } catch (error) {
        if (!(error instanceof DriverError && error.kind === 'timed_out')) throw error;
        await connection.domainDestroy(domain);
      }
      await connection.domainCreate(domain);
    });
  }

  async undefine(uuid: string): Promise<DomainStatus | undefined> {
    return this.operate(uuid, async (domain, status) => {
      if (activeStates.has(status.state)) throw invalidState(status, 'undefine');
      await this.connected().domainUndefine(domain);
      await this.images.discard(uuid);
      this.forgetIdentity(uuid);
      this.managedByUuid.delete(uuid);
    });
  }

  /** Returns the domain's current XML description; for diagnostics and tests. */
  async domainXml(uuid: string, inactive = false): Promise<string> {
    return translateErrors(async () => {
      const domain = await this.connected().domainLookupByUUIDString(uuid);
      return domain.getXMLDesc(inactive ? DomainGetXMLDescFlags.INACTIVE : DomainGetXMLDescFlags.NONE);
    });
  }

  /** Returns the path the memory image of a suspended domain is saved at. */
  saveImagePath(uuid: string): string {
    return this.images.pathFor(uuid);
  }

  private connected(): Hypervisor {
    if (!this.connection) throw new DriverError('hypervisor_failure', 'the libvirt connection is not open');
    return this.connection;
  }

  private async operate(uuid: string, action: (domain: Domain, status: DomainStatus) => Promise<void>): Promise<DomainStatus | undefined> {
    return this.exclusively(uuid, async () => {
      const domain = await this.connected().domainLookupByUUIDString(uuid);
      const before = await this.statusOf(domain);
      await action(domain, before);
      return this.stateAfter(domain, before);
    });
  }

  /** Reads only the power state after an operation; name, UUID and management do not change. Undefined once the domain is gone. */
  private async stateAfter(domain: Domain, before: DomainStatus): Promise<DomainStatus | undefined> {
    const info = await ignoringFailure(() => domain.getInfo());
    if (!info) return undefined;
    const state = powerStateByLibvirtState[info.state] ?? 'running';
    return { ...before, state: state === 'shutoff' && this.images.has(before.uuid) ? 'suspended' : state };
  }

  private async exclusively<T>(uuid: string, action: () => Promise<T>): Promise<T> {
    this.busy.set(uuid, (this.busy.get(uuid) ?? 0) + 1);
    try {
      return await translateErrors(action);
    } finally {
      const remaining = (this.busy.get(uuid) ?? 1) - 1;
      if (remaining > 0) this.busy.set(uuid, remaining);
      else this.busy.delete(uuid);
    }
  }

  private async restore(uuid: string): Promise<void> {
    await this.connected().domainRestore(this.images.pathFor(uuid));
    await this.images.discard(uuid);
  }

  private async waitUntilInactive(domain: Domain, status: DomainStatus, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const info = await ignoringFailure(() => domain.getInfo());
      if (!info || info.state === DomainState.SHUTOFF) return;
      if (Date.now() >= deadline) throw new DriverError('timed_out', `domain ${status.name} did not shut down within ${timeoutMs} ms`);
      await sleep(Math.min(25 * 2 ** attempt, 500, Math.max(deadline - Date.now(), 1)));
    }
  }

  private async statusOf(domain: Domain): Promise<DomainStatus> {
    const [name, uuid, info] = await Promise.all([domain.getName(), domain.getUUIDString(), domain.getInfo()]);
    const state = powerStateByLibvirtState[info.state] ?? 'running';
    return {
      uuid,
      name,
      managed: await this.isManaged(domain, uuid, name),
      state: state === 'shutoff' && this.images.has(uuid) ? 'suspended' : state,
    };
  }

  private async isManaged(domain: Domain, uuid: string, name: string): Promise<boolean> {
    if (!name.startsWith(domainNamePrefix)) return false;
    const known = this.managedByUuid.get(uuid);
    if (known !== undefined) return known;
    const managed = readDroverMetadata(await domain.getXMLDesc(DomainGetXMLDescFlags.INACTIVE))?.id === uuid;
    this.managedByUuid.set(uuid, managed);
    return managed;
  }

  private async identify(domain: Domain, knownName?: string): Promise<Identity> {
    const [name, uuid] = await Promise.all([knownName ?? domain.getName(), domain.getUUIDString()]);
    return { uuid, name, managed: await this.isManaged(domain, uuid, name) };
  }

  private async identityOfId(id: number): Promise<Identity | undefined> {
    const cached = this.identityById.get(id);
    if (cached) return cached;
    const identity = await ignoringFailure(async () => this.identify(await this.connected().domainLookupByID(id)));
    if (identity) this.identityById.set(id, identity);
    return identity;
  }

  private async identityOfName(name: string): Promise<Identity | undefined> {
    const cached = this.identityByName.get(name);
    if (cached) return cached;
    const identity = await ignoringFailure(async () => this.identify(await this.connected().domainLookupByName(name), name));
    if (identity) this.identityByName.set(name, identity);
    return identity;
  }

  private forgetIdentity(uuid: string): void {
    for (const [id, identity] of this.identityById) if (identity.uuid === uuid) this.identityById.delete(id);
    for (const [name, identity] of this.identityByName) if (identity.uuid === uuid) this.identityByName.delete(name);
  }

  private forgetIdentitiesExcept(activeIds: number[], inactiveNames: string[]): void {
    const ids = new Set(activeIds);
    const names = new Set(inactiveNames);
    for (const id of this.identityById.keys()) if (!ids.has(id)) this.identityById.delete(id);
    for (const name of this.identityByName.keys()) if (!names.has(name)) this.identityByName.delete(name);
  }

  private async unusualStates(paused: Domain[], other: Domain[]): Promise<Map<number, PowerState>> {
    const states = new Map<number, PowerState>();
    await Promise.all([
      ...paused.map(async (domain) => {
        const id = await ignoringFailure(() => domain.getID());
        if (id !== undefined && id !== null) states.set(id, 'paused');
      }),
      ...other.map(async (domain) => {
        const found = await ignoringFailure(() => Promise.all([domain.getID(), domain.getInfo()]));
        if (found && found[0] !== null) states.set(found[0], powerStateByLibvirtState[found[1].state] ?? 'running');
      }),
    ]);
    return states;
  }

  private async recheckVanished(listed: Map<string, DomainStatus>): Promise<void> {
    const vanished = [...this.lastListed].filter((uuid) => !listed.has(uuid));
    const rechecked = await Promise.all(vanished.map((uuid) => this.getDomain(uuid)));
    for (const status of rechecked) if (status) listed.set(status.uuid, status);
  }

  private async lookupOrUndefined(uuid: string): Promise<Domain | undefined> {
    try {
      return await this.connected().domainLookupByUUIDString(uuid);
    } catch (error) {
      if (toDriverError(error).kind === 'domain_not_found') return undefined;
      throw toDriverError(error);
    }
  }
}
