import type { Host, Vm } from '../db/entities.js';
import { isRunning } from '../rules/power-states.js';
import type { Records } from './records.js';
import { conflict, unavailable } from '../rules/errors.js';
import { placementConflict, type PlacementNeeds } from './devices.js';


interface Reservation {
  hostId: string;
  bytes: number;
}

/**
 * Chooses the host a VM starts on. A VM already defined on a host starts
 * there; one without a host goes to the responding host of its cluster with
 * the most free memory. Free memory is the host's memory less what Drover's
 * running VMs on it hold, less memory promised to starts still in flight.
 */
export class Placement {
  private readonly reservations = new Map<string, Reservation>();

  constructor(
    private readonly records: Records,
    private readonly isConnected: (hostId: string) => boolean,
  ) {}

  reserve(taskId: string, vm: Vm, needs: PlacementNeeds): string {
    const blocked = placementConflict(vm, needs);
    if (blocked) throw blocked;
    if (vm.hostId && needs.hostId && vm.hostId !== needs.hostId) {
      throw conflict(`VM ${vm.name} is defined on host ${vm.hostId}, but a disk of it is on the local storage of host ${needs.hostId}`);
    }
    const pinned = vm.hostId ?? needs.hostId;
    const candidates = pinned
      ? [this.records.host(pinned)].filter((host): host is Host => host !== undefined)
      : [...this.records.hosts.values()].filter((host) => host.clusterId === vm.clusterId);
    const reachable = candidates.filter((host) => host.status === 'up' && this.isConnected(host.id));
    if (pinned && reachable.length === 0) throw unavailable(`host ${pinned} of VM ${vm.name} is not connected`);
    const used = this.committedMemory();
    let best: { host: Host; free: number } | undefined;
    for (const host of reachable) {
      const free = host.memoryBytes - (used.get(host.id) ?? 0);
      if (free >= vm.memoryBytes && (!best || free > best.free)) best = { host, free };
    }
    if (!best) {
      const where = pinned ? `its host ${reachable[0]?.name}` : `any responding host of its cluster (${reachable.length} candidate(s))`;
      throw conflict(`no host can run VM ${vm.name}: ${vm.memoryBytes} bytes of memory are not free on ${where}`);
    }
    this.reservations.set(taskId, { hostId: best.host.id, bytes: vm.memoryBytes });
    return best.host.id;
  }

  release(taskId: string): void {
    this.reservations.delete(taskId);
  }

  private committedMemory(): Map<string, number> {
    const used = new Map<string, number>();
    const add = (hostId: string, bytes: number) => used.set(hostId, (used.get(hostId) ?? 0) + bytes);
    for (const vm of this.records.vms.values()) {
      if (isRunning(vm)) add(vm.hostId!, vm.memoryBytes);
    }
    for (const reservation of this.reservations.values()) add(reservation.hostId, reservation.bytes);
    return used;
  }
}
