import type { Task } from '../db/entities.js';
import type { CloudInitSpec, DomainCommandKind } from '../../shared/model.js';
import { cloudInitForStart, type StartVmParams } from '../rules/initialization.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { NotYet, notFound, unavailable } from '../rules/errors.js';
import { outcomeError, rebootDescription } from '../rules/outcomes.js';
import { planAction, type VmAction } from '../rules/vm-actions.js';
import type { Records, VmRecord } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';
import type { Placement } from '../state/placement.js';
import { paramsOf, type TaskRunner } from './task-scheduler.js';

/**
 * Runs the lifecycle actions of VMs (start, stop, shutdown, suspend, resume,
 * reboot, remove): plans the command from the hypervisor-reported state,
 * places a VM that has no host, sends the command, and takes in what the
 * host reports back. An action on a VM whose host has not reported its
 * domains since its session began waits for that report.
 */
export class VmLifecycleRunner implements TaskRunner {
  constructor(
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly hub: AgentHub,
    private readonly placement: Placement,
    private readonly removal: (vm: VmRecord, task: Task) => Promise<void>,
  ) {}

  async plan(task: Task): Promise<void> {
    const vm = this.vmOf(task);
    const host = this.records.host(vm.hostId);
    if (host?.status === 'connecting') throw new NotYet(this.records.nextHostChange(), `host ${host.name} of VM ${vm.name} has not reported its domains yet`);
    if (host?.status === 'non_operational') throw unavailable(`host ${host.name} of VM ${vm.name} is non-operational (${host.statusDetail}); try again once it is up`);
    const plan = planAction(task.action as VmAction, vm, host?.status);
    task.commandKind = plan.command;
    if (plan.command !== 'start') {
      task.hostId = vm.hostId;
      return;
    }
    const needs = await this.devices.placementOf(vm.id);
    await this.records.locationWritten(vm.id);
    task.hostId = this.placement.reserve(task.id, vm, needs);
  }

  stored(task: Task): void {
    if (task.hostId) this.records.sentTo(task.objectId, task.hostId);
  }

  async run(task: Task): Promise<void> {
    const vm = this.vmOf(task);
    const { hostId, commandKind: command } = task;
    if (command && hostId) {
      if (command === 'start') await this.records.locationWritten(vm.id);
      const outcome = await this.hub.dispatch(hostId, {
        commandId: task.id,
        taskId: task.id,
        kind: command as DomainCommandKind,
        vmId: vm.id,
        spec: command === 'start' || command === 'define' ? { ...(await this.devices.specOf(vm)), cloudInit: command === 'start' ? this.cloudInitOf(vm, task) : undefined } : undefined,
      });
      if (outcome.ok && command === 'undefine' && !outcome.domain) this.records.domainGone(hostId, vm.id);
      if (!outcome.ok) throw outcomeError(outcome);
      if (outcome.reboot) task.description = rebootDescription(outcome.reboot);
    }
    if (task.action === 'remove') await this.removal(vm, task);
  }

  release(task: Task): void {
    this.placement.release(task.id);
  }

  private cloudInitOf(vm: VmRecord, task: Task): CloudInitSpec | undefined {
    return task.action === 'start' ? cloudInitForStart(paramsOf<StartVmParams>(task), vm.initialization, vm.name) : undefined;
  }

  private vmOf(task: Task): VmRecord {
    const vm = this.records.vm(task.objectId);
    if (!vm) throw notFound('VM', task.objectId);
    return vm;
  }
}
