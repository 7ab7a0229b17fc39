import { NotYet, conflict, notFound, unavailable } from '../rules/errors.js';
import { placementConflict, type PlacementNeeds } from '../rules/devices.js';
import { acceptsNewVms } from '../rules/host-admin.js';
import type { HostRecord, Records, VmRecord } from './records.js';

interface Reservation {
  hostId: string;
  bytes: number;
}

/**
 * Chooses the host a VM starts on. A VM already defined on a host starts
 * there; one without a host goes to the responding host of its cluster with
 * the most free memory. Free memory is the host's memory less what the
 * active VMs on it hold, less memory promised to starts still in flight.
 * While a host that could be chosen is `connecting` (it has not reported its
 * domains since its session began), the choice waits for it (`NotYet`).
 */
export class Placement {
  private readonly reservations = new Map<string, Reservation>();
  private readonly reservedOn = new Map<string, number>();

  constructor(private readonly records: Records) {}

  reserve(taskId: string, vm: VmRecord, needs: PlacementNeeds): string {
    const blocked = placementConflict(vm, needs);
    if (blocked) throw blocked;
    if (vm.hostId && needs.hostId && vm.hostId !== needs.hostId) {
      throw conflict(`VM ${vm.name} is defined on host ${vm.hostId}, but a disk of it is on the local storage of host ${needs.hostId}`);
    }
    const pinned = vm.hostId ?? needs.hostId;
    const candidates = pinned
      ? [this.records.host(pinned)].filter((host): host is HostRecord => host !== undefined)
      : [...this.records.hosts.values()].filter((host) => host.clusterId === vm.clusterId);
    const connecting = candidates.filter((host) => host.status === 'connecting');
    if (connecting.length) throw new NotYet(this.records.nextHostChange(), `host ${connecting.map((host) => host.name).join(', ')} has not reported its VMs yet`);
    const pinnedHost = pinned ? candidates[0] : undefined;
    if (pinnedHost && !acceptsNewVms(pinnedHost)) throw conflict(`VM ${vm.name} is defined on host ${pinnedHost.name}, which is in ${pinnedHost.adminState.replaceAll('_', ' ')}; no VM starts there until it is activated`);
    const reachable = candidates.filter((host) => host.status === 'up' && this.records.isConnected(host.id) && acceptsNewVms(host));
    if (pinned && reachable.length === 0) throw unavailable(`host ${pinned} of VM ${vm.name} is not connected`);
    let best: { host: HostRecord; free: number } | undefined;
    for (const host of reachable) {
      const free = host.memoryBytes - this.records.committedMemory(host.id) - (this.reservedOn.get(host.id) ?? 0);
      if (free >= vm.memoryBytes && (!best || free > best.free)) best = { host, free };
    }
    if (!best) {
      const where = pinned ? `its host ${reachable[0]?.name}` : `any responding host of its cluster (${reachable.length} candidate(s))`;
      throw conflict(`no host can run VM ${vm.name}: ${vm.memoryBytes} bytes of memory are not free on ${where}`);
    }
    this.reservations.set(taskId, { hostId: best.host.id, bytes: vm.memoryBytes });
    this.reservedOn.set(best.host.id, (this.reservedOn.get(best.host.id) ?? 0) + vm.memoryBytes);
    return best.host.id;
  }

  /**
   * Chooses the host a running VM migrates to, and reserves the VM's memory
   * there: `requested` when given, else the responding host of the VM's
   * cluster, other than its own, with the most free memory. A destination
   * must be `up` and connected, in the VM's cluster, able to take incoming
   * migrations, and have the VM's memory free; a requested one that is not
   * is refused (conflict), an unknown one is not found. While a host that
   * could be chosen is `connecting`, the choice waits (`NotYet`).
   */
  reserveDestination(taskId: string, vm: VmRecord, requested?: string): string {
    const refuse = (why: string) => conflict(`cannot migrate VM ${vm.name}: ${why}`);
    if (requested !== undefined && !this.records.host(requested)) throw notFound('host', requested);
    const candidates = requested !== undefined ? [this.records.host(requested)!] : [...this.records.hosts.values()].filter((host) => host.clusterId === vm.clusterId && host.id !== vm.hostId);
    const connecting = candidates.filter((host) => host.status === 'connecting');
    if (connecting.length) throw new NotYet(this.records.nextHostChange(), `host ${connecting.map((host) => host.name).join(', ')} has not reported its VMs yet`);
    const problems = new Map<string, string>();
    let best: { host: HostRecord; free: number } | undefined;
    for (const host of candidates) {
      const free = host.memoryBytes - this.records.committedMemory(host.id) - (this.reservedOn.get(host.id) ?? 0);
      const problem =
        host.id === vm.hostId ? 'it is the host the VM runs on'
        : host.clusterId !== vm.clusterId ? "it is not in the VM's cluster"
        : host.status !== 'up' || !this.records.isConnected(host.id) ? `it is ${host.status === 'up' ? 'not connected' : host.status}`
        : !acceptsNewVms(host) ? `it is in ${host.adminState.replaceAll('_', ' ')}`
        : !host.migrationUri ? 'it takes no incoming migrations (its agent has no migration URI)'
        : free < vm.memoryBytes ? `${vm.memoryBytes} bytes of memory are not free there (${Math.max(0, free)} are)`
        : undefined;
      if (problem) problems.set(host.name, problem);
      else if (!best || free > best.free) best = { host, free };
    }
    if (!best) {
      if (requested !== undefined) throw refuse(`host ${candidates[0]!.name} cannot take it: ${problems.get(candidates[0]!.name)}`);
      const why = [...problems].map(([name, problem]) => `${name}: ${problem}`).join('; ');
      throw refuse(`no other host of its cluster can take it${why ? ` (${why})` : ''}`);
    }
    this.reservations.set(taskId, { hostId: best.host.id, bytes: vm.memoryBytes });
    this.reservedOn.set(best.host.id, (this.reservedOn.get(best.host.id) ?? 0) + vm.memoryBytes);
    return best.host.id;
  }

  release(taskId: string): void {
    const reservation = this.reservations.get(taskId);
    if (!reservation) return;
    this.reservations.delete(taskId);
    this.reservedOn.set(reservation.hostId, (this.reservedOn.get(reservation.hostId) ?? 0) - reservation.bytes);
  }
}
