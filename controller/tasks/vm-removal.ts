import type { Orm } from '../db/orm.js';
import { DiskAttachment, type Task } from '../db/entities.js';
import type { Records, VmRecord } from '../state/records.js';
import { reader, runStatement } from '../db/store.js';
import type { VmDevices } from '../state/devices.js';
import type { DiskVolumes } from './storage-runners.js';
import { paramsOf } from './task-scheduler.js';

/** The parameters of a VM's `remove` task. */
export interface RemoveVmParams {
  /** Keep the VM's disks (detached) instead of removing them with their volumes. */
  detachOnly?: boolean;
}

/** Removes a VM's rows once its domain is gone: its NICs, its disk attachments, and (unless only detaching) its disks with their volumes. */
export class VmRemoval {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly volumes: DiskVolumes,
  ) {}

  async remove(vm: VmRecord, task: Task): Promise<void> {
    const { detachOnly } = paramsOf<RemoveVmParams>(task);
    const em = reader(this.orm);
    const attachments = await em.find(DiskAttachment, { vmId: vm.id });
    await runStatement(em, 'delete from disk_attachments where vm_id = ?', [vm.id]);
    if (!detachOnly) for (const attachment of attachments) await this.volumes.remove(`${task.id}:${attachment.diskId}`, task.id, attachment.diskId);
    await runStatement(em, 'delete from nics where vm_id = ?', [vm.id]);
    await runStatement(em, 'delete from vms where id = ?', [vm.id]);
    this.records.vmRemoved(vm.id);
    this.devices.changed(vm.id);
  }
}
