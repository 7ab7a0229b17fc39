import type { Task } from '../db/entities.js';
import type { Orm } from '../db/orm.js';
import { updateRow } from '../db/store.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { NotYet, conflict, notFound } from '../rules/errors.js';
import { outcomeError } from '../rules/outcomes.js';
import { departureOf, type Departure, type HostAction } from '../rules/host-admin.js';
import { activePowerStates } from '../rules/power-states.js';
import type { HostRecord, Records, VmRecord } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';
import { paramsOf, type TaskQueue, type TaskRunner } from './task-scheduler.js';

/** The VM task a host's deactivation undefines a shut-off VM on the host by, in the VM's own queue. */
export const vmDepartureActions = ['leave_host'] as const;

export interface LeaveHostParams {
  hostId: string;
}

/** What a fence task keeps while it runs: the highly available VMs it restarts, chosen before it declares the host's VMs down, so that a fence run again after a controller restart restarts them still. */
interface FenceParams {
  restart?: string[];
}

/** What a deactivation keeps while it runs: the task moving each VM away, by VM, so that a deactivation run again after a controller restart waits for those still open instead of moving the VMs twice. */
interface DeactivateParams {
  departures?: Record<string, string>;
}

export interface HostMaintenanceSettings {
  /** How many migrations one host's deactivation runs at once (DROVER_MAINTENANCE_MIGRATIONS); the others wait their turn. */
  parallelMigrations: number;
}

/** How long a deactivation waits for one VM to leave before it gives up on it. */
const departureWaitMs = 6 * 3600_000;
/** How many times a deactivation looks again for VMs on its host (a start placed there before the deactivation began, say). */
const maxRounds = 5;
/** The connectivity statuses in which a host's VMs may be declared down on its administrator's word. */
const fenceableStatuses: readonly string[] = ['non_responsive', 'non_operational'];

/**
 * Runs host tasks. `deactivate` makes the host `preparing_for_maintenance`,
 * moves every VM defined on it away (active ones by `migrate` tasks, at most
 * `parallelMigrations` at once; shut-off ones by undefining them there) and
 * makes it `maintenance`; when a VM cannot leave, the host is `active`
 * again and the task fails naming it. `activate` makes the host `active`,
 * and cancels a deactivation in progress. `fence` takes in the
 * administrator's word that the host is down: its VMs are down with no host
 * and the highly available ones are started elsewhere.
 */
export class HostMaintenanceRunner implements TaskRunner {
  private readonly cancelled = new Set<string>();
  /** The writes of each running task's parameters, one after another. */
  private readonly paramWrites = new Map<string, Promise<void>>();

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly scheduler: TaskQueue,
    private readonly settings: HostMaintenanceSettings,
  ) {}

  /** Makes the host's deactivation in progress, if any, stop moving VMs and fail. */
  cancelDeactivation(hostId: string): void {
    if (this.scheduler.runningAction(hostId) === 'deactivate') this.cancelled.add(hostId);
  }

  plan(task: Task): void {
    const host = this.hostOf(task);
    task.hostId = host.id;
    const action = task.action as HostAction;
    if (action === 'activate') {
      if (host.adminState === 'active' && !this.cancelled.has(host.id)) throw conflict(`host ${host.name} is active already`);
      return;
    }
    if (action === 'fence') {
      if (!fenceableStatuses.includes(host.status)) throw conflict(`host ${host.name} is ${host.status}: only a non_responsive or non_operational host can be confirmed down`);
      return;
    }
    if (host.adminState !== 'active') throw conflict(`host ${host.name} is ${host.adminState} already`);
    if (host.status === 'connecting') throw new NotYet(this.records.nextHostChange(), `host ${host.name} has not reported its VMs yet`);
    if (host.status !== 'up' && this.vmsOn(host.id).length > 0) throw conflict(`host ${host.name} is ${host.status}: its VMs cannot be moved away`);
  }

  async run(task: Task): Promise<void> {
    const host = this.hostOf(task);
    const action = task.action as HostAction;
    if (action === 'activate') {
      this.cancelled.delete(host.id);
      await this.records.hostAdminState(host.id, 'active');
    } else if (action === 'fence') {
      await this.fence(task, host);
    } else {
      await this.deactivate(task, host);
    }
  }

  private async deactivate(task: Task, host: HostRecord): Promise<void> {
    await this.records.hostAdminState(host.id, 'preparing_for_maintenance');
    try {
      for (let round = 1; ; round++) {
        this.checkCancelled(host);
        const vms = this.vmsOn(host.id);
        if (vms.length === 0) break;
        if (round > maxRounds) throw conflict(`host ${host.name} cannot go into maintenance: VMs kept arriving on it (${vms.map((vm) => vm.name).join(', ')})`);
        const departures = await Promise.all(vms.map(async (vm) => ({ vm, departure: await this.departureOf(vm) })));
        const stuck = departures.flatMap(({ departure }) => (departure.kind === 'stuck' ? [departure.why] : []));
        if (stuck.length) throw conflict(`host ${host.name} cannot go into maintenance: ${stuck.join('; ')}`);
        const failures = await eachBounded(departures, this.settings.parallelMigrations, () => this.cancelled.has(host.id), ({ vm, departure }) =>
          this.depart(task, host, vm, departure.kind === 'migrate' ? 'migrate' : 'leave_host'),
        );
        this.checkCancelled(host);
        if (failures.length) throw conflict(`host ${host.name} cannot go into maintenance: ${failures.join('; ')}`);
      }
      await this.records.hostAdminState(host.id, 'maintenance');
    } catch (error) {
      if (!this.cancelled.has(host.id) && this.records.host(host.id)?.adminState === 'preparing_for_maintenance') await this.records.hostAdminState(host.id, 'active');
      throw error;
    }
  }

  /** Moves one VM away by a task in its own queue (or the one a previous run of the deactivation left open); answers why it could not, or undefined once it left. */
  private async depart(task: Task, host: HostRecord, vm: VmRecord, action: 'migrate' | 'leave_host'): Promise<string | undefined> {
    const what = action === 'migrate' ? 'be migrated' : 'be undefined on it';
    try {
      const params = paramsOf<DeactivateParams>(task);
      const left = params.departures?.[vm.id];
      let stepId = left && this.scheduler.openTask(left) ? left : undefined;
      if (!stepId) {
        const stepParams = action === 'migrate' ? {} : ({ hostId: host.id } satisfies LeaveHostParams);
        stepId = (await this.scheduler.submit({ objectType: 'vm', objectId: vm.id, action, params: stepParams, correlationId: task.correlationId, jobId: task.jobId })).id;
        await this.keepParams(task, { departures: { ...paramsOf<DeactivateParams>(task).departures, [vm.id]: stepId } });
      }
      const ended = await this.scheduler.waitForEnd(stepId, departureWaitMs);
      if (ended?.state === 'finished') return undefined;
      return `VM ${vm.name} could not ${what}: ${ended ? (ended.errorDetail ?? `its task was ${ended.state}`) : 'its task did not end in time'}`;
    } catch (error) {
      return `VM ${vm.name} could not ${what}: ${(error as Error).message}`;
    }
  }

  /** Writes a running task's parameters, after any earlier write of them. */
  private async keepParams(task: Task, params: object): Promise<void> {
    task.params = JSON.stringify(params);
    const previous = this.paramWrites.get(task.id) ?? Promise.resolve();
    const written = previous.catch(() => undefined).then(() => updateRow(this.orm, 'tasks', 'id', task.id, { params: task.params }));
    this.paramWrites.set(task.id, written);
    try {
      await written;
    } finally {
      if (this.paramWrites.get(task.id) === written) this.paramWrites.delete(task.id);
    }
  }

  /** Stops a deactivation its host's activation cancelled; the activation, queued behind it, makes the host active. */
  private checkCancelled(host: HostRecord): void {
    if (this.cancelled.has(host.id)) throw conflict(`the deactivation of host ${host.name} was cancelled by its activation`);
  }

  private async departureOf(vm: VmRecord): Promise<Departure> {
    const needs = await this.devices.placementOf(vm.id);
    return departureOf({ ...vm, localDiskHostId: needs.hostId });
  }

  /**
   * The administrator's word that the host is down: its VMs are down with no
   * host (but those a migration is moving, which the migration settles), and
   * the highly available ones that were running (or meant to) are started
   * again, highest priority first, on other hosts. Which ones is on the
   * task's row before anything changes; a run after a controller restart
   * declares the VMs down again only while the host still does not respond,
   * and starts those of them that are still down with no task.
   */
  private async fence(task: Task, host: HostRecord): Promise<void> {
    const migrating = (vmId: string) => this.scheduler.runningAction(vmId) === 'migrate';
    let { restart } = paramsOf<FenceParams>(task);
    if (!restart) {
      if (!fenceableStatuses.includes(host.status)) throw conflict(`host ${host.name} is ${host.status} again: its VMs are reported by it, not confirmed down`);
      restart = [...this.records.vms.values()]
        .filter((vm) => vm.hostId === host.id && vm.highlyAvailable && !migrating(vm.id) && (vm.powerState !== null ? activePowerStates.has(vm.powerState) : vm.desiredState === 'up'))
        .sort((a, b) => b.highAvailabilityPriority - a.highAvailabilityPriority)
        .map((vm) => vm.id);
      await this.keepParams(task, { restart } satisfies FenceParams);
    }
    const released = fenceableStatuses.includes(host.status) ? await this.records.hostConfirmedDown(host.id, migrating) : [];
    const started: string[] = [];
    const refused: string[] = [];
    for (const id of restart) {
      const vm = this.records.vm(id);
      if (!vm || vm.hostId !== null || this.scheduler.isBusy(id)) continue;
      try {
        await this.scheduler.submit({ objectType: 'vm', objectId: id, action: 'start', correlationId: task.correlationId, jobId: task.jobId });
        started.push(vm.name);
      } catch (error) {
        refused.push(`${vm.name} (${(error as Error).message})`);
      }
    }
    const parts = [`${released.length} VM(s) of host ${host.name} are down`];
    if (started.length) parts.push(`highly available VM(s) started on other hosts: ${started.join(', ')}`);
    if (refused.length) parts.push(`highly available VM(s) that could not be started: ${refused.join('; ')}`);
    task.description = parts.join('; ');
  }

  private vmsOn(hostId: string): VmRecord[] {
    return [...this.records.vms.values()].filter((vm) => vm.hostId === hostId);
  }

  private hostOf(task: Task): HostRecord {
    const host = this.records.host(task.objectId);
    if (!host) throw notFound('host', task.objectId);
    return host;
  }
}

/**
 * Undefines a shut-off VM on the host its host's deactivation moves it from,
 * in the VM's own queue, so that no other task of the VM runs meanwhile; it
 * can then start on any host. Refused when the VM is no longer shut off
 * there.
 */
export class VmDepartureRunner implements TaskRunner {
  constructor(
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly hub: AgentHub,
  ) {}

  async plan(task: Task): Promise<void> {
    const { hostId } = paramsOf<LeaveHostParams>(task);
    const vm = this.records.vm(task.objectId);
    if (!vm) throw notFound('VM', task.objectId);
    task.hostId = hostId;
    if (vm.hostId !== hostId) return;
    const host = this.records.host(hostId);
    if (host?.status === 'connecting') throw new NotYet(this.records.nextHostChange(), `host ${host.name} has not reported its VMs yet`);
    if (host?.status !== 'up') throw conflict(`VM ${vm.name} cannot be undefined on host ${host?.name ?? hostId}, which is ${host?.status ?? 'gone'}`);
    const departure = departureOf({ ...vm, localDiskHostId: (await this.devices.placementOf(vm.id)).hostId });
    if (departure.kind === 'stuck') throw conflict(departure.why);
    if (departure.kind !== 'undefine') throw conflict(`VM ${vm.name} is ${vm.powerState} on host ${host.name}; it must be migrated`);
    task.commandKind = 'undefine';
  }

  async run(task: Task): Promise<void> {
    const { hostId, commandKind } = task;
    if (!hostId || commandKind !== 'undefine') return;
    const outcome = await this.hub.dispatch(hostId, { commandId: task.id, taskId: task.id, kind: 'undefine', vmId: task.objectId });
    if (!outcome.ok) throw outcomeError(outcome);
    if (!outcome.domain) this.records.domainGone(hostId, task.objectId);
  }
}

/**
 * Runs `work` on every item, at most `limit` at once, in order; stops
 * starting new ones once `stop` says so. Answers the failures `work`
 * reported.
 */
export async function eachBounded<T>(items: readonly T[], limit: number, stop: () => boolean, work: (item: T) => Promise<string | undefined>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) {
      const failure = await work(items[next++]!);
      if (failure) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return failures;
}
