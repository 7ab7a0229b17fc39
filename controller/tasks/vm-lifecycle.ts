import { Task, Vm } from '../db/entities.js';
import type { CommandOutcome, DomainCommandKind } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { notFound } from '../rules/errors.js';
import type { Records } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';
import { outcomeError } from '../rules/outcomes.js';
import type { Placement } from '../state/placement.js';
import type { TaskRunner } from './task-scheduler.js';
import { planAction, type VmAction } from '../rules/vm-actions.js';

/**
 * Runs the lifecycle actions of VMs (start, stop, shutdown, suspend, resume,
 * reboot, remove): plans the command from the hypervisor-reported state,
 * places a VM that has no host, sends the command, and records the state the
 * agent reports back.
 */
export class VmLifecycleRunner implements TaskRunner {
  constructor(
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly hub: AgentHub,
    private readonly placement: Placement,
    private readonly removal: (vm: Vm, task: Task) => Promise<void>,
  ) {}

  async plan(task: Task): Promise<void> {
    const vm = this.vmOf(task);
    const plan = planAction(task.action as VmAction, vm, this.records.host(vm.hostId)?.status);
    task.commandKind = plan.command;
    task.hostId = plan.command === 'start' ? this.placement.reserve(task.id, vm, await this.devices.placementOf(vm.id)) : vm.hostId;
  }

  async run(task: Task): Promise<void> {
    const vm = this.vmOf(task);
    const { hostId, commandKind: command } = task;
    if (command && hostId) {
      const outcome = await this.hub.dispatch(hostId, {
        commandId: task.id,
        taskId: task.id,
        kind: command as DomainCommandKind,
        vmId: vm.id,
        spec: command === 'start' || command === 'define' ? await this.devices.specOf(vm) : undefined,
      });
      this.record(vm, command, outcome);
      if (!outcome.ok) throw outcomeError(outcome);
    }
    if (task.action === 'remove') await this.removal(vm, task);
  }

  release(task: Task): void {
    this.placement.release(task.id);
  }

  private vmOf(task: Task): Vm {
    const vm = this.records.vm(task.objectId);
    if (!vm) throw notFound('VM', task.objectId);
    return vm;
  }

  /** The domain's state in an outcome is taken in where every outcome arrives; an undefined domain's absence is recorded here. */
  private record(vm: Vm, command: string, outcome: CommandOutcome): void {
    if (outcome.ok && command === 'undefine' && !outcome.domain) this.records.writeVmBehind(vm.id, { hostId: null, powerState: null, powerStateAt: Date.now() });
  }
}

export const vmLifecycleActions: readonly VmAction[] = ['start', 'stop', 'shutdown', 'suspend', 'resume', 'reboot', 'remove'];
