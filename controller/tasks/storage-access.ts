import type { Orm } from '../db/orm.js';
import type { Disk, Host, StorageDomain } from '../db/entities.js';
import type { StorageUsage, VolumeFacts, VolumeSpec } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { unavailable } from '../rules/errors.js';
import type { Records } from '../state/records.js';
import { selectRows } from '../db/store.js';
import { storageSpecOf, volumeRefOf } from '../rules/devices.js';
import { outcomeError } from '../rules/outcomes.js';

/**
 * Finds the hosts that reach a storage domain and sends them storage
 * commands. A localfs domain is reached by its one host; shared storage by
 * every responding host of the clusters of the domain's data center.
 */
export class StorageAccess {
  private turn = 0;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly hub: AgentHub,
  ) {}

  async reachingHosts(domain: StorageDomain): Promise<Host[]> {
    const responding = (host: Host | undefined): host is Host => host !== undefined && host.status === 'up' && this.hub.isConnected(host.id);
    if (domain.storageType === 'localfs') return [this.records.host(domain.hostId)].filter(responding);
    if (!domain.dataCenterId) return [];
    const clusters = await selectRows<{ id: string }>(this.orm, 'select id from clusters where data_center_id = ?', [domain.dataCenterId]);
    const clusterIds = new Set(clusters.map((cluster) => cluster.id));
    return [...this.records.hosts.values()].filter((host) => clusterIds.has(host.clusterId) && responding(host)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Every host that may have the domain's storage, whatever its state: the
   * one host of a localfs domain, every host of the clusters of a shared
   * domain's data center.
   */
  async sharingHosts(domain: StorageDomain): Promise<Host[]> {
    if (domain.storageType === 'localfs') return [this.records.host(domain.hostId)].filter((host): host is Host => host !== undefined);
    if (!domain.dataCenterId) return [];
    const clusters = await selectRows<{ id: string }>(this.orm, 'select id from clusters where data_center_id = ?', [domain.dataCenterId]);
    const clusterIds = new Set(clusters.map((cluster) => cluster.id));
    return [...this.records.hosts.values()].filter((host) => clusterIds.has(host.clusterId)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One host that reaches the domain, taking turns among them. */
  async hostFor(domain: StorageDomain): Promise<Host> {
    const hosts = await this.reachingHosts(domain);
    if (hosts.length === 0) {
      const which = domain.storageType === 'localfs' ? `its host ${domain.hostId}` : 'any responding host of its data center';
      throw unavailable(`storage domain ${domain.name} cannot be reached: ${which} is not connected`);
    }
    return hosts[this.turn++ % hosts.length]!;
  }

  async prepare(commandId: string, taskId: string, domain: StorageDomain, host: Host): Promise<StorageUsage | undefined> {
    const outcome = await this.hub.dispatch(host.id, { commandId, taskId, kind: 'prepare_storage', storage: storageSpecOf(domain) });
    if (!outcome.ok) throw outcomeError(outcome);
    return outcome.storage;
  }

  async release(commandId: string, taskId: string, domain: StorageDomain, host: Host): Promise<void> {
    const outcome = await this.hub.dispatch(host.id, { commandId, taskId, kind: 'release_storage', storage: storageSpecOf(domain) });
    if (!outcome.ok) throw outcomeError(outcome);
  }

  async createVolume(commandId: string, taskId: string, host: Host, volume: VolumeSpec): Promise<{ facts: VolumeFacts; usage?: StorageUsage }> {
    const outcome = await this.hub.dispatch(host.id, { commandId, taskId, kind: 'create_volume', storage: volume.storage, volume });
    if (!outcome.ok) throw outcomeError(outcome);
    if (!outcome.volume) throw unavailable(`host ${host.name} created volume ${volume.volumeId} but did not describe it`);
    return { facts: outcome.volume, usage: outcome.storage };
  }

  /**
   * Asks every host but `deleting` that may have the shared domain's storage
   * whether one of its domains uses the disk's volume: a host that uses it is
   * a conflict, and a host that cannot answer (its agent is not connected) is
   * unavailable, since only its answer could tell.
   */
  async checkUnusedElsewhere(commandId: string, taskId: string, deleting: Host, disk: Disk, domain: StorageDomain): Promise<void> {
    if (domain.storageType === 'localfs') return;
    for (const host of await this.sharingHosts(domain)) {
      if (host.id === deleting.id) continue;
      if (!this.hub.isConnected(host.id)) {
        throw unavailable(`host ${host.name} may use disk ${disk.name} on storage domain ${domain.name} and cannot be asked (it is not connected); the disk is deleted only once every host of the data center can say that none of its guests uses it`);
      }
      const outcome = await this.hub.dispatch(host.id, { commandId: `${commandId}:${host.id}`, taskId, kind: 'check_volume_unused', storage: storageSpecOf(domain), volumeRef: volumeRefOf(disk, domain) });
      if (!outcome.ok) throw outcomeError({ ...outcome, message: `host ${host.name}: ${outcome.message}` });
    }
  }

  async deleteVolume(commandId: string, taskId: string, host: Host, disk: Disk, domain: StorageDomain): Promise<StorageUsage | undefined> {
    const outcome = await this.hub.dispatch(host.id, { commandId, taskId, kind: 'delete_volume', storage: storageSpecOf(domain), volumeRef: volumeRefOf(disk, domain) });
    if (!outcome.ok) throw outcomeError({ ...outcome, message: `host ${host.name}: ${outcome.message}` });
    return outcome.storage;
  }
}
