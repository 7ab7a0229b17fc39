import type { HostCommand } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { NotYet, unavailable } from '../rules/errors.js';
import type { Records, VmRecord } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';
import { outcomeError } from '../rules/outcomes.js';
import { isRunning } from '../rules/power-states.js';

/** How a device change affects a running domain. */
export type Plugging = 'plug' | 'unplug' | 'none';

/**
 * Makes a change to a VM's devices in the database and on its host together:
 * a running domain gets the device plugged or unplugged (and its persistent
 * definition updated), a domain defined on a host but not running is
 * redefined, and a VM defined nowhere needs nothing until it starts. When the
 * host refuses, the database change is undone (or, for an unplug, never made).
 */
export class DeviceSync {
  constructor(
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly hub: AgentHub,
  ) {}

  async change(
    step: { commandId: string; taskId: string },
    vmId: string,
    device: { id: string; plugging: Plugging },
    commit: () => Promise<void>,
    undo: () => Promise<void>,
  ): Promise<void> {
    const vm = this.records.vm(vmId);
    const hostId = vm?.hostId;
    if (!vm || !hostId) return this.committed(vmId, commit);
    const host = this.records.host(hostId);
    if (host?.status === 'connecting') throw new NotYet(this.records.nextHostChange(), `host ${host.name} of VM ${vm.name} has not reported its domains yet`);
    if (!this.hub.isConnected(hostId)) throw unavailable(`host ${hostId} of VM ${vm.name} is not connected`);
    const live = isRunning(vm) && device.plugging !== 'none';
    if (live && device.plugging === 'unplug') {
      const spec = await this.specOf(vm);
      await this.send(hostId, { ...step, kind: 'unplug_device', vmId, spec, deviceId: device.id });
      return this.committed(vmId, commit);
    }
    await this.committed(vmId, commit);
    try {
      const spec = await this.specOf(vm);
      if (live) await this.send(hostId, { ...step, kind: 'plug_device', vmId, spec, deviceId: device.id });
      else await this.send(hostId, { ...step, kind: 'define', vmId, spec });
    } catch (error) {
      await this.committed(vmId, undo);
      throw error;
    }
  }

  /** Redefines the domain of a VM that is not running after its devices changed in the database. */
  async redefine(step: { commandId: string; taskId: string }, vmId: string): Promise<void> {
    await this.change(step, vmId, { id: '', plugging: 'none' }, async () => undefined, async () => undefined);
  }

  private async committed(vmId: string, work: () => Promise<void>): Promise<void> {
    await work();
    this.devices.changed(vmId);
  }

  private async specOf(vm: VmRecord) {
    this.devices.changed(vm.id);
    return this.devices.specOf(vm);
  }

  private async send(hostId: string, command: HostCommand): Promise<void> {
    const outcome = await this.hub.dispatch(hostId, command);
    if (!outcome.ok) throw outcomeError(outcome);
  }
}
