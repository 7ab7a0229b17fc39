import type { Orm } from '../db/orm.js';
import { Host, Vm } from '../db/entities.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { conflict, unavailable } from '../services/errors.js';
import { reader } from '../services/store.js';

const memoryHoldingStates = ['running', 'paused', 'shutting_down', 'pm_suspended'];

interface Reservation {
  hostId: string;
  bytes: number;
}

/**
 * Chooses the host a VM starts on. A VM already defined on a host starts
 * there; one without a host goes to the responding host of its cluster with
 * the most free memory. Memory promised to starts still in flight counts as
 * used until the start ends.
 */
export class Placement {
  private readonly reservations = new Map<string, Reservation>();

  constructor(
    private readonly orm: Orm,
    private readonly hub: AgentHub,
  ) {}

  async reserve(taskId: string, vm: Vm): Promise<string> {
    const em = reader(this.orm);
    const candidates = vm.hostId
      ? await em.find(Host, { id: vm.hostId })
      : await em.find(Host, { clusterId: vm.clusterId, status: 'up' });
    const reachable = candidates.filter((host) => host.status === 'up' && this.hub.isConnected(host.id));
    if (vm.hostId && reachable.length === 0) throw unavailable(`host ${vm.hostId} of VM ${vm.name} is not connected`);
    const used = await this.committedMemory(reachable.map((host) => host.id));
    let best: { host: Host; free: number } | undefined;
    for (const host of reachable) {
      const free = host.memoryBytes - (used.get(host.id) ?? 0) - this.reservedOn(host.id);
      if (free >= vm.memoryBytes && (!best || free > best.free)) best = { host, free };
    }
    if (!best) {
      const where = vm.hostId ? `its host ${reachable[0]?.name}` : `any responding host of its cluster (${reachable.length} candidate(s))`;
      throw conflict(`no host can run VM ${vm.name}: ${vm.memoryBytes} bytes of memory are not free on ${where}`);
    }
    this.reservations.set(taskId, { hostId: best.host.id, bytes: vm.memoryBytes });
    return best.host.id;
  }

  release(taskId: string): void {
    this.reservations.delete(taskId);
  }

  private reservedOn(hostId: string): number {
    let total = 0;
    for (const reservation of this.reservations.values()) if (reservation.hostId === hostId) total += reservation.bytes;
    return total;
  }

  private async committedMemory(hostIds: string[]): Promise<Map<string, number>> {
    if (hostIds.length === 0) return new Map();
    const rows: Array<{ host_id: string; used: string | number }> = await reader(this.orm)
      .getConnection()
      .execute(
        `select host_id, sum(memory_bytes) as used from vms where host_id in (${hostIds.map(() => '?').join(',')}) and power_state in (${memoryHoldingStates.map(() => '?').join(',')}) group by host_id`,
        [...hostIds, ...memoryHoldingStates],
      );
    return new Map(rows.map((row) => [row.host_id, Number(row.used)]));
  }
}
