import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Disk, DiskAttachment, StorageDomain, Task, type DiskFormat } from '../db/entities.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import type { DiskRemovalParams } from '../tasks/storage-runners.js';
import { isRunning } from '../rules/power-states.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import { findReferenced, inTransaction, reader, type Reference } from '../db/store.js';
import { defined } from './datacenters.js';
import type { Records } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';

/** The largest disk Drover creates: 64 TiB, qcow2's practical limit on most file systems. */
export const maxDiskBytes = 64 * 1024 ** 4;
/** The smallest disk: 1 MiB. */
export const minDiskBytes = 1024 ** 2;

export interface DiskInput {
  name?: string;
  description?: string;
  provisionedSize?: number;
  format?: DiskFormat;
  sparse?: boolean;
  storageDomain?: Reference;
}

export type NewDisk = DiskInput & { name: string; provisionedSize: number; storageDomain: Reference };

/** A disk and the VMs it is attached to. */
export interface DiskView {
  disk: Disk;
  vmIds: string[];
}

export class DiskService {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly scheduler: TaskQueue,
  ) {}

  async list(filter: { storageDomainId?: string; includeTemplateDisks?: boolean } = {}): Promise<DiskView[]> {
    const em = reader(this.orm);
    const where: Record<string, unknown> = {};
    if (filter.storageDomainId) where.storageDomainId = filter.storageDomainId;
    if (!filter.includeTemplateDisks) where.templateId = null;
    const disks = await em.find(Disk, where, { orderBy: { name: 'asc', id: 'asc' } });
    return this.withVms(em, disks);
  }

  async get(id: string): Promise<DiskView> {
    const em = reader(this.orm);
    const disk = await em.findOne(Disk, { id });
    if (!disk) throw notFound('disk', id);
    return (await this.withVms(em, [disk]))[0]!;
  }

  /** Checks a new disk's settings and returns the row to insert (status locked) and its storage domain. */
  async plan(em: EntityManager, input: NewDisk): Promise<{ disk: Disk; domain: StorageDomain }> {
    const domain = await findReferenced(em, StorageDomain, input.storageDomain, 'storage domain');
    if (domain.status !== 'active') throw conflict(`storage domain ${domain.name} is ${domain.status}; disks can be created only on an active storage domain`);
    const format = input.format ?? 'cow';
    const sparse = input.sparse ?? format === 'cow';
    if (format === 'cow' && !sparse) throw invalid('disk.sparse must be true for the cow format (qcow2 allocates on demand)');
    if (!sparse && domain.availableBytes !== null && input.provisionedSize > domain.availableBytes) {
      throw conflict(`storage domain ${domain.name} has ${domain.availableBytes} bytes free; a preallocated disk of ${input.provisionedSize} bytes does not fit`);
    }
    const now = Date.now();
    const disk = em.create(Disk, {
      id: randomUUID(),
      name: input.name,
      description: input.description ?? '',
      storageDomainId: domain.id,
      provisionedSize: input.provisionedSize,
      actualSize: 0,
      format,
      sparse,
      status: 'locked',
      parentDiskId: null,
      templateId: null,
      createdAt: now,
      updatedAt: now,
    });
    return { disk, domain };
  }

  /** Creates a floating disk: the row answers at once, locked, while a task creates its volume on a host. */
  async create(input: NewDisk, correlationId: string | null): Promise<{ view: DiskView; task: Task }> {
    const { disk } = await inTransaction(this.orm, (em) => this.plan(em, input));
    const task = await this.scheduler.submit({ objectType: 'disk', objectId: disk.id, action: 'create', correlationId });
    return { view: { disk, vmIds: [] }, task };
  }

  async update(id: string, input: Pick<DiskInput, 'name' | 'description' | 'provisionedSize'>): Promise<DiskView> {
    await inTransaction(this.orm, async (em) => {
      const disk = await em.findOne(Disk, { id });
      if (!disk) throw notFound('disk', id);
      if (input.provisionedSize !== undefined && input.provisionedSize !== disk.provisionedSize) {
        throw conflict('resizing a disk is not supported in this version; create a new disk instead');
      }
      em.assign(disk, { ...defined({ name: input.name, description: input.description }), updatedAt: Date.now() });
    });
    return this.get(id);
  }

  /**
   * Removes a disk and its volume: refused while a running VM uses it, while
   * it is locked, and for a template's disk or one that others are thin
   * copies of. The disk is locked in the same step as its VMs are found down
   * and idle, so none of them starts with it meanwhile.
   */
  async remove(id: string, correlationId: string | null): Promise<Task> {
    const em = reader(this.orm);
    const disk = await em.findOne(Disk, { id });
    if (!disk) throw notFound('disk', id);
    if (disk.templateId) throw conflict(`disk ${disk.name} belongs to a template; remove the template instead`);
    if (disk.status === 'locked' || this.scheduler.isBusy(id)) throw conflict(`disk ${disk.name} is locked by a task in progress`);
    const copies = await em.count(Disk, { parentDiskId: id });
    if (copies > 0) throw conflict(`disk ${disk.name} backs ${copies} other disk(s)`);
    const attachments = await em.find(DiskAttachment, { diskId: id });
    for (const attachment of attachments) {
      const vm = attachment.vmId ? this.records.vm(attachment.vmId) : undefined;
      if (vm && (isRunning(vm) || this.scheduler.isBusy(vm.id))) throw conflict(`disk ${disk.name} is attached to VM ${vm.name}, which is running or busy`);
    }
    await this.devices.lockDisks([id], `the removal of disk ${disk.name}`);
    try {
      const params: DiskRemovalParams = { statusBefore: disk.status === 'illegal' ? 'illegal' : 'ok' };
      return await this.scheduler.submit({ objectType: 'disk', objectId: id, action: 'remove', params, correlationId });
    } catch (error) {
      await this.devices.unlockDisks([id], disk.status === 'illegal' ? 'illegal' : 'ok');
      throw error;
    }
  }

  private async withVms(em: EntityManager, disks: Disk[]): Promise<DiskView[]> {
    if (disks.length === 0) return [];
    const attachments = await em.find(DiskAttachment, { diskId: { $in: disks.map((disk) => disk.id) }, vmId: { $ne: null } });
    const vmIds = new Map<string, string[]>();
    for (const attachment of attachments) vmIds.set(attachment.diskId, [...(vmIds.get(attachment.diskId) ?? []), attachment.vmId!]);
    return disks.map((disk) => ({ disk, vmIds: vmIds.get(disk.id) ?? [] }));
  }
}
