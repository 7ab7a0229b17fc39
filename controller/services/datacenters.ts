import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, DataCenter, Network, Nic, StorageDomain, VnicProfile, type Vm } from '../db/entities.js';
import { createNetwork, managementNetworkName } from './networks.js';
import { conflict, notFound } from '../rules/errors.js';
import { inTransaction, reader, runStatement } from '../db/store.js';
import { checkGuestHardware, type GuestHardware } from '../rules/guest-hardware.js';

export interface DataCenterInput {
  name?: string;
  description?: string;
  local?: boolean;
}

export class DataCenterService {
  constructor(private readonly orm: Orm) {}

  list(): Promise<DataCenter[]> {
    return reader(this.orm).find(DataCenter, {}, { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<DataCenter> {
    const found = await reader(this.orm).findOne(DataCenter, { id });
    if (!found) throw notFound('data center', id);
    return found;
  }

  /** Creates a data center with its management network, as oVirt does. */
  create(input: Required<Pick<DataCenterInput, 'name'>> & DataCenterInput): Promise<DataCenter> {
    return inTransaction(this.orm, async (em) => {
      const now = Date.now();
      const dataCenter = em.create(DataCenter, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        local: input.local ?? false,
        createdAt: now,
        updatedAt: now,
      });
      await em.flush();
      await createNetwork(em, { name: managementNetworkName, description: 'Management Network', dataCenterId: dataCenter.id, vlanId: null, mtu: 0 });
      return dataCenter;
    });
  }

  update(id: string, input: DataCenterInput): Promise<DataCenter> {
    return inTransaction(this.orm, async (em) => {
      const dataCenter = await em.findOne(DataCenter, { id });
      if (!dataCenter) throw notFound('data center', id);
      em.assign(dataCenter, { ...defined(input), updatedAt: Date.now() });
      return dataCenter;
    });
  }

  remove(id: string): Promise<DataCenter> {
    return inTransaction(this.orm, async (em) => {
      const dataCenter = await em.findOne(DataCenter, { id });
      if (!dataCenter) throw notFound('data center', id);
      const clusters = await em.count(Cluster, { dataCenterId: id });
      if (clusters > 0) throw conflict(`data center ${dataCenter.name} still has ${clusters} cluster(s); remove them first`);
      const domains = await em.count(StorageDomain, { dataCenterId: id });
      if (domains > 0) throw conflict(`data center ${dataCenter.name} still has ${domains} storage domain(s) attached; detach them first`);
      const networks = await em.find(Network, { dataCenterId: id });
      const profiles = networks.length ? await em.find(VnicProfile, { networkId: { $in: networks.map((network) => network.id) } }) : [];
      if (profiles.length && (await em.count(Nic, { vnicProfileId: { $in: profiles.map((profile) => profile.id) } }))) {
        throw conflict(`NICs still use the networks of data center ${dataCenter.name}`);
      }
        for (const profile of profiles) await runStatement(em, 'delete from vnic_profiles where id = ?', [profile.id]);
      for (const network of networks) await runStatement(em, 'delete from networks where id = ?', [network.id]);
      em.remove(dataCenter);
      return dataCenter;
    });
  }
}

export function defined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The changes an update makes to a VM's or template's settings: the fields given, and the CPU topology counts given. */
/** The settings VMs and templates share. */
export type VmSettings = Pick<Vm, 'description' | 'memoryBytes' | 'cpuSockets' | 'cpuCores' | 'cpuThreads' | 'osType' | 'displayType'> & GuestHardware;

/** The settings a request gives for a new or changed VM or template; null clears a hardware setting (leaves it to the host). */
export interface VmSettingsInput extends Partial<Pick<VmSettings, 'description' | 'memoryBytes' | 'osType' | 'displayType'>>, Partial<GuestHardware> {
  cpu?: { sockets?: number; cores?: number; threads?: number };
}

/** The settings of a new VM or template: those the input gives, and the source's (a template, or a VM) for the rest. */
export function settingsFrom(input: VmSettingsInput, source: VmSettings): VmSettings {
  const settings: VmSettings = {
    description: input.description ?? source.description,
    memoryBytes: input.memoryBytes ?? source.memoryBytes,
    cpuSockets: input.cpu?.sockets ?? source.cpuSockets,
    cpuCores: input.cpu?.cores ?? source.cpuCores,
    cpuThreads: input.cpu?.threads ?? source.cpuThreads,
    osType: input.osType ?? source.osType,
    displayType: input.displayType ?? source.displayType,
    cpuMode: input.cpuMode !== undefined ? input.cpuMode : source.cpuMode,
    customCpuModel: input.customCpuModel !== undefined ? input.customCpuModel : source.customCpuModel,
    customEmulatedMachine: input.customEmulatedMachine !== undefined ? input.customEmulatedMachine : source.customEmulatedMachine,
    biosType: input.biosType !== undefined ? input.biosType : source.biosType,
  };
  checkGuestHardware(settings, 'the settings');
  return settings;
}

export function settingsPatch<T extends { cpuSockets: number; cpuCores: number; cpuThreads: number }>(
  current: T,
  fields: object,
  cpu: { sockets?: number; cores?: number; threads?: number } | undefined,
): Partial<T> & { updatedAt: number } {
  return {
    ...(defined(fields) as Partial<T>),
    cpuSockets: cpu?.sockets ?? current.cpuSockets,
    cpuCores: cpu?.cores ?? current.cpuCores,
    cpuThreads: cpu?.threads ?? current.cpuThreads,
    updatedAt: Date.now(),
  };
}

