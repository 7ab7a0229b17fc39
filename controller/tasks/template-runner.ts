import type { Orm } from '../db/orm.js';
import { Disk, type Task } from '../db/entities.js';
import { reader, updateRow, runStatement } from '../db/store.js';
import type { DiskVolumes } from './storage-runners.js';
import type { VmDevices } from '../state/devices.js';
import { paramsOf, type TaskRunner } from './task-scheduler.js';

/** The parameters of a template's `create` task: which disk of the VM each template disk copies. */
export interface TemplateCopies {
  copies: Array<{ diskId: string; copyOfDiskId: string }>;
  sourceVmId: string;
}

/** Copies a VM's disks into a new template's, or removes a template with its disks' volumes. */
export class TemplateRunner implements TaskRunner {
  constructor(
    private readonly orm: Orm,
    private readonly volumes: DiskVolumes,
    private readonly devices: VmDevices,
  ) {}

  async run(task: Task): Promise<void> {
    if (task.action === 'create') return this.create(task, paramsOf<TemplateCopies>(task));
    return this.remove(task);
  }

  private async create(task: Task, params: TemplateCopies): Promise<void> {
    try {
      for (const copy of params.copies) await this.volumes.create(`${task.id}:${copy.diskId}`, task.id, copy.diskId, { copyOfDiskId: copy.copyOfDiskId });
      await updateRow(this.orm, 'templates', 'id', task.objectId, { status: 'ok', updatedAt: Date.now() });
    } catch (error) {
      await updateRow(this.orm, 'templates', 'id', task.objectId, { status: 'illegal', updatedAt: Date.now() });
      throw error;
    } finally {
      await this.devices.unlockDisks(params.copies.map((copy) => copy.copyOfDiskId), 'ok');
    }
  }

  private async remove(task: Task): Promise<void> {
    const em = reader(this.orm);
    try {
      for (const disk of await em.find(Disk, { templateId: task.objectId })) {
        await runStatement(em, 'delete from disk_attachments where disk_id = ?', [disk.id]);
        await this.volumes.remove(`${task.id}:${disk.id}`, task.id, disk.id);
      }
    } catch (error) {
      await updateRow(this.orm, 'templates', 'id', task.objectId, { status: 'illegal', updatedAt: Date.now() });
      throw error;
    }
    await runStatement(em, 'delete from nics where template_id = ?', [task.objectId]);
    await runStatement(em, 'delete from templates where id = ?', [task.objectId]);
  }
}
