import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import type { Network } from '../db/entities.js';
import type { NetworkSpec } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import type { HostRecord, Records } from '../state/records.js';
import { selectRows } from '../db/store.js';
import { outcomeError } from '../rules/outcomes.js';

export function networkSpecOf(network: Pick<Network, 'id' | 'name' | 'vlanId' | 'mtu'>): NetworkSpec {
  return { id: network.id, name: network.name, vlanId: network.vlanId, mtu: network.mtu };
}

/**
 * Realizes networks on the hosts that may run a VM of their data center (the
 * hosts of its clusters), so that any of them can take a VM that uses one:
 * every network of its data center on a host that comes up, a new network on
 * every responding host, and removes a network from them when it is deleted.
 */
export class NetworkHosts {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly hub: AgentHub,
    private readonly log: Logger,
  ) {}

  /**
   * Realizes every network of the host's data center on a host that came up.
   * It never rejects: a failure is logged, and the host is told again when it
   * next comes up.
   */
  async hostUp(hostId: string): Promise<void> {
    const host = this.records.host(hostId);
    if (!host) return;
    try {
      const networks = await selectRows<{ id: string; name: string; vlan_id: number | null; mtu: number }>(
        this.orm,
        'select n.id, n.name, n.vlan_id, n.mtu from networks n join clusters c on c.data_center_id = n.data_center_id where c.id = ? order by n.name',
        [host.clusterId],
      );
      for (const row of networks) await this.prepare(host, networkSpecOf({ id: row.id, name: row.name, vlanId: row.vlan_id, mtu: Number(row.mtu) }));
    } catch (error) {
      this.log.warn({ err: error, hostId }, 'the networks of a host that came up could not be realized');
    }
  }

  /** Realizes a network on every responding host of its data center. It never rejects: a failure is logged, and hosts get the network when they next come up. */
  async realize(network: Network): Promise<void> {
    try {
      for (const host of await this.respondingHosts(network.dataCenterId)) await this.prepare(host, networkSpecOf(network));
    } catch (error) {
      this.log.warn({ err: error, network: network.id }, 'a network could not be realized on the hosts of its data center');
    }
  }

  /**
   * Removes a network from every responding host of its data center. When a
   * host refuses (a running domain there uses the network), the hosts that
   * had removed it realize it again and the refusal is thrown.
   */
  async release(network: Network): Promise<void> {
    const spec = networkSpecOf(network);
    const released: HostRecord[] = [];
    for (const host of await this.respondingHosts(network.dataCenterId)) {
      const outcome = await this.hub.dispatch(host.id, { commandId: randomUUID(), taskId: '', kind: 'release_network', network: spec });
      if (!outcome.ok) {
        for (const undone of released) await this.prepare(undone, spec);
        throw outcomeError({ ...outcome, message: `host ${host.name} keeps network ${network.name}: ${outcome.message}` });
      }
      released.push(host);
    }
  }

  private async prepare(host: HostRecord, network: NetworkSpec): Promise<void> {
    try {
      const outcome = await this.hub.dispatch(host.id, { commandId: randomUUID(), taskId: '', kind: 'prepare_network', network });
      if (!outcome.ok) this.log.warn({ hostId: host.id, network: network.id, error: outcome.error, message: outcome.message }, 'a host could not realize a network');
    } catch (error) {
      this.log.warn({ err: error, hostId: host.id, network: network.id }, 'a host could not be asked to realize a network');
    }
  }

  private async respondingHosts(dataCenterId: string): Promise<HostRecord[]> {
    const clusters = await selectRows<{ id: string }>(this.orm, 'select id from clusters where data_center_id = ?', [dataCenterId]);
    const clusterIds = new Set(clusters.map((cluster) => cluster.id));
    return [...this.records.hosts.values()].filter((host) => clusterIds.has(host.clusterId) && host.status === 'up' && this.hub.isConnected(host.id)).sort((a, b) => a.name.localeCompare(b.name));
  }
}
