import type { Orm } from '../db/orm.js';
import { Disk, DiskAttachment, StorageDomain, type Task } from '../db/entities.js';
import type { StorageUsage, VolumeSpec } from '../../shared/model.js';
import { conflict, notFound } from '../rules/errors.js';
import type { Records } from '../state/records.js';
import { inTransaction, reader, updateRow, selectRows, runStatement } from '../db/store.js';
import { volumeRefOf } from '../rules/devices.js';
import type { VmDevices } from '../state/devices.js';
import type { DeviceSync } from './device-sync.js';
import { isRunning } from '../rules/power-states.js';
import type { StorageAccess } from './storage-access.js';
import { paramsOf, type TaskRunner } from './task-scheduler.js';

async function domainOf(orm: Orm, id: string): Promise<StorageDomain> {
  const domain = await reader(orm).findOne(StorageDomain, { id });
  if (!domain) throw notFound('storage domain', id);
  return domain;
}

/** Activates a storage domain on every host that reaches it, or puts it in maintenance. */
export class StorageDomainRunner implements TaskRunner {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly access: StorageAccess,
    private readonly devices: VmDevices,
    private readonly recordUsage: (usage: StorageUsage) => Promise<void>,
    private readonly busy: (objectId: string) => boolean,
  ) {}

  async run(task: Task): Promise<void> {
    const domain = await domainOf(this.orm, task.objectId);
    if (task.action === 'activate') {
      await this.activate(task, domain);
      this.devices.changedAll();
      return;
    }
    this.devices.closeDomain(domain.id);
    try {
      await this.deactivate(task, domain);
    } finally {
      this.devices.domainSettled(domain.id);
    }
  }

  private async activate(task: Task, domain: StorageDomain): Promise<void> {
    const hosts = await this.access.reachingHosts(domain);
    if (hosts.length === 0) await this.access.hostFor(domain);
    for (const host of hosts) {
      const usage = await this.access.prepare(`${task.id}:${host.id}`, task.id, domain, host);
      if (usage) await this.recordUsage(usage);
    }
    await updateRow(this.orm, 'storage_domains', 'id', domain.id, { status: 'active', updatedAt: Date.now() });
  }

  private async deactivate(task: Task, domain: StorageDomain): Promise<void> {
    const users = await selectRows<{ vm_id: string }>(this.orm, 'select distinct a.vm_id from disk_attachments a join disks d on d.id = a.disk_id where d.storage_domain_id = ? and a.vm_id is not null', [domain.id]);
    const running = users.map((row) => this.records.vm(row.vm_id)).find((vm) => vm && (isRunning(vm) || this.busy(vm.id)));
    if (running) throw conflict(`VM ${running.name} runs, or is being acted on, with a disk on storage domain ${domain.name}; stop it first`);
    await updateRow(this.orm, 'storage_domains', 'id', domain.id, { status: 'maintenance', updatedAt: Date.now() });
    for (const host of await this.access.reachingHosts(domain)) await this.access.release(`${task.id}:${host.id}`, task.id, domain, host);
  }
}

/** What a disk's volume is made from: nothing (empty), a backing volume (thin copy), or a volume to copy. */
export interface VolumeSource {
  backingDiskId?: string;
  copyOfDiskId?: string;
}

/**
 * Creates and removes the volumes of disks. A disk is `locked` while its
 * volume is made, `ok` after, and `illegal` when that failed (the host then
 * leaves no volume behind).
 */
export class DiskVolumes {
  constructor(
    private readonly orm: Orm,
    private readonly access: StorageAccess,
    private readonly devices: VmDevices,
    private readonly recordUsage: (usage: StorageUsage) => Promise<void>,
  ) {}

  async create(commandId: string, taskId: string, diskId: string, source: VolumeSource = {}): Promise<void> {
    const em = reader(this.orm);
    const disk = await em.findOne(Disk, { id: diskId });
    if (!disk) throw notFound('disk', diskId);
    if (disk.status === 'ok') return;
    const domain = await domainOf(this.orm, disk.storageDomainId);
    const relative = async (id: string | undefined) => {
      if (!id) return undefined;
      const other = await em.findOne(Disk, { id });
      if (!other) throw notFound('disk', id);
      return volumeRefOf(other, await domainOf(this.orm, other.storageDomainId));
    };
    const volume: VolumeSpec = {
      ...volumeRefOf(disk, domain),
      capacityBytes: disk.provisionedSize,
      sparse: disk.sparse,
      backing: await relative(source.backingDiskId),
      copyOf: await relative(source.copyOfDiskId),
    };
    try {
      const host = await this.access.hostFor(domain);
      const { facts, usage } = await this.access.createVolume(commandId, taskId, host, volume);
      await updateRow(this.orm, 'disks', 'id', disk.id, { status: 'ok', actualSize: facts.actualSizeBytes, updatedAt: Date.now() });
      if (usage) await this.recordUsage(usage);
    } catch (error) {
      await updateRow(this.orm, 'disks', 'id', disk.id, { status: 'illegal', updatedAt: Date.now() });
      throw error;
    }
  }

  /**
   * Deletes the disk's volume (on a host that reaches its domain) and its
   * row, once the other hosts that share the storage said none of their
   * domains uses it; the deleting host checks its own as it deletes.
   */
  async remove(commandId: string, taskId: string, diskId: string): Promise<void> {
    const disk = await reader(this.orm).findOne(Disk, { id: diskId });
    if (!disk) return;
    const domain = await domainOf(this.orm, disk.storageDomainId);
    const host = await this.access.hostFor(domain);
    await this.access.checkUnusedElsewhere(`${commandId}:unused`, taskId, host, disk, domain);
    const usage = await this.access.deleteVolume(commandId, taskId, host, disk, domain);
    await runStatement(this.orm, 'delete from disks where id = ?', [disk.id]);
    this.devices.disksRemoved([disk.id]);
    if (usage) await this.recordUsage(usage);
  }

  /** Unlocks a disk whose removal failed, leaving it as it was before. */
  async removalFailed(diskId: string, status: 'ok' | 'illegal'): Promise<void> {
    if (await reader(this.orm).findOne(Disk, { id: diskId })) await this.devices.unlockDisks([diskId], status);
  }
}

/** What the removal of a disk remembers: the status the disk had, which it gets back when the removal fails. */
export interface DiskRemovalParams {
  statusBefore?: 'ok' | 'illegal';
}

/** Creates a floating disk's volume, or removes a disk: detaches it from the (stopped) VMs that have it, then deletes its volume. */
export class DiskRunner implements TaskRunner {
  constructor(
    private readonly orm: Orm,
    private readonly volumes: DiskVolumes,
    private readonly sync: DeviceSync,
  ) {}

  async run(task: Task): Promise<void> {
    if (task.action === 'create') return this.volumes.create(task.id, task.id, task.objectId);
    try {
      await this.remove(task);
    } catch (error) {
      await this.volumes.removalFailed(task.objectId, paramsOf<DiskRemovalParams>(task).statusBefore ?? 'ok');
      throw error;
    }
  }

  private async remove(task: Task): Promise<void> {
    const em = reader(this.orm);
    for (const attachment of await em.find(DiskAttachment, { diskId: task.objectId })) {
      const detach = () => runStatement(em, 'delete from disk_attachments where id = ?', [attachment.id]);
      if (!attachment.vmId) await detach();
      else {
        const restore = () => inTransaction(this.orm, async (tx) => void tx.create(DiskAttachment, { ...attachment }));
        await this.sync.change({ commandId: `${task.id}:${attachment.vmId}`, taskId: task.id }, attachment.vmId, { id: task.objectId, plugging: 'none' }, detach, restore);
      }
    }
    await this.volumes.remove(`${task.id}:volume`, task.id, task.objectId);
  }
}
