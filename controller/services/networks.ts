import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { DataCenter, Network, Nic, VnicProfile } from '../db/entities.js';
import { conflict, notFound } from '../rules/errors.js';
import { findReferenced, inTransaction, reader, type Reference } from '../db/store.js';
import { defined } from './datacenters.js';
import type { VmDevices } from '../state/devices.js';
import type { NetworkHosts } from '../tasks/network-hosts.js';

/** The network every data center has from the start, as oVirt's management network. */
export const managementNetworkName = 'ovirtmgmt';

export interface NetworkInput {
  name?: string;
  description?: string;
  dataCenter?: Reference;
  vlanId?: number | null;
  mtu?: number;
}

export interface VnicProfileInput {
  name?: string;
  description?: string;
  network?: Reference;
  portMirroring?: boolean;
}

/**
 * Networks of data centers and their vNIC profiles. Every responding host of a
 * network's data center realizes it when it is created and when the host comes
 * up, and gives it up when it is deleted.
 */
export class NetworkService {
  constructor(
    private readonly orm: Orm,
    private readonly devices: VmDevices,
    private readonly hosts: NetworkHosts,
  ) {}

  list(filter: { dataCenterId?: string } = {}): Promise<Network[]> {
    return reader(this.orm).find(Network, filter.dataCenterId ? { dataCenterId: filter.dataCenterId } : {}, { orderBy: { name: 'asc', id: 'asc' } });
  }

  async get(id: string): Promise<Network> {
    const found = await reader(this.orm).findOne(Network, { id });
    if (!found) throw notFound('network', id);
    return found;
  }

  /** Creates a network with a vNIC profile of the same name, as oVirt does. */
  async create(input: NetworkInput & { name: string; dataCenter: Reference }): Promise<Network> {
    const network = await inTransaction(this.orm, async (em) => {
      const dataCenter = await findReferenced(em, DataCenter, input.dataCenter, 'data center');
      return createNetwork(em, { name: input.name, description: input.description ?? '', dataCenterId: dataCenter.id, vlanId: input.vlanId ?? null, mtu: input.mtu ?? 0 });
    });
    void this.hosts.realize(network);
    return network;
  }

  async update(id: string, input: NetworkInput): Promise<Network> {
    const updated = await inTransaction(this.orm, async (em) => {
      const network = await em.findOne(Network, { id });
      if (!network) throw notFound('network', id);
      if (input.dataCenter) {
        const dataCenter = await findReferenced(em, DataCenter, input.dataCenter, 'data center');
        if (dataCenter.id !== network.dataCenterId) throw conflict('a network cannot move to another data center');
      }
      if (input.name !== undefined && network.name === managementNetworkName && input.name !== network.name) throw conflict(`the ${managementNetworkName} network cannot be renamed`);
      const { dataCenter: _dataCenter, ...fields } = input;
      em.assign(network, { ...defined(fields), updatedAt: Date.now() });
      return network;
    });
    this.devices.changedAll();
    return updated;
  }

  /**
   * Removes a network no NIC uses: from the responding hosts of its data
   * center first (refused while a running domain on one of them uses it), then
   * from the database. When a NIC took it meanwhile, the hosts realize it again.
   */
  async remove(id: string): Promise<Network> {
    const network = await inTransaction(this.orm, (em) => removable(em, id));
    await this.hosts.release(network);
    try {
      return await inTransaction(this.orm, async (em) => {
        const { profiles } = await removableWithProfiles(em, id);
        for (const profile of profiles) em.remove(profile);
        await em.flush();
        em.remove(network);
        return network;
      });
    } catch (error) {
      void this.hosts.realize(network);
      throw error;
    }
  }

  listProfiles(filter: { networkId?: string } = {}): Promise<VnicProfile[]> {
    return reader(this.orm).find(VnicProfile, filter.networkId ? { networkId: filter.networkId } : {}, { orderBy: { name: 'asc', id: 'asc' } });
  }

  async getProfile(id: string): Promise<VnicProfile> {
    const found = await reader(this.orm).findOne(VnicProfile, { id });
    if (!found) throw notFound('vNIC profile', id);
    return found;
  }

  createProfile(input: VnicProfileInput & { name: string; network: Reference }): Promise<VnicProfile> {
    return inTransaction(this.orm, async (em) => {
      const network = await findReferenced(em, Network, input.network, 'network');
      const now = Date.now();
      return em.create(VnicProfile, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        networkId: network.id,
        portMirroring: input.portMirroring ?? false,
        createdAt: now,
        updatedAt: now,
      });
    });
  }

  async updateProfile(id: string, input: VnicProfileInput): Promise<VnicProfile> {
    return inTransaction(this.orm, async (em) => {
      const profile = await em.findOne(VnicProfile, { id });
      if (!profile) throw notFound('vNIC profile', id);
      if (input.network) {
        const network = await findReferenced(em, Network, input.network, 'network');
        if (network.id !== profile.networkId) throw conflict('a vNIC profile cannot move to another network');
      }
      const { network: _network, ...fields } = input;
      em.assign(profile, { ...defined(fields), updatedAt: Date.now() });
      return profile;
    });
  }

  async removeProfile(id: string): Promise<VnicProfile> {
    return inTransaction(this.orm, async (em) => {
      const profile = await em.findOne(VnicProfile, { id });
      if (!profile) throw notFound('vNIC profile', id);
      const used = await em.count(Nic, { vnicProfileId: id });
      if (used > 0) throw conflict(`vNIC profile ${profile.name} is used by ${used} NIC(s)`);
      em.remove(profile);
      return profile;
    });
  }
}

export async function createNetwork(em: EntityManager, fields: Pick<Network, 'name' | 'description' | 'dataCenterId' | 'vlanId' | 'mtu'>): Promise<Network> {
  const now = Date.now();
  const network = em.create(Network, { id: randomUUID(), ...fields, createdAt: now, updatedAt: now });
  await em.flush();
  em.create(VnicProfile, { id: randomUUID(), name: fields.name, description: '', networkId: network.id, portMirroring: false, createdAt: now, updatedAt: now });
  return network;
}

async function removableWithProfiles(em: EntityManager, id: string): Promise<{ network: Network; profiles: VnicProfile[] }> {
  const network = await em.findOne(Network, { id });
  if (!network) throw notFound('network', id);
  if (network.name === managementNetworkName) throw conflict(`the ${managementNetworkName} network cannot be removed`);
  const profiles = await em.find(VnicProfile, { networkId: id });
  const used = profiles.length ? await em.count(Nic, { vnicProfileId: { $in: profiles.map((profile) => profile.id) } }) : 0;
  if (used > 0) throw conflict(`network ${network.name} is used by ${used} NIC(s)`);
  return { network, profiles };
}

async function removable(em: EntityManager, id: string): Promise<Network> {
  return (await removableWithProfiles(em, id)).network;
}
