import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Cluster, Disk, DiskAttachment, Host, Nic, StorageDomain, type DiskInterface, type NicInterface, type Task } from '../db/entities.js';
import { conflict, notFound } from '../rules/errors.js';
import type { MacAddresses } from './mac-addresses.js';
import type { Records, VmRecord } from '../state/records.js';
import { inTransaction, reader, runStatement, selectRows } from '../db/store.js';
import type { VmDevices } from '../state/devices.js';
import { isRunning } from '../rules/power-states.js';
import type { DeviceSync } from './device-sync.js';
import type { DiskVolumes, VolumeSource } from './storage-runners.js';
import { paramsOf, type TaskRunner } from './task-scheduler.js';

export interface AttachmentFields {
  diskInterface: DiskInterface;
  bootable: boolean;
  active: boolean;
  readOnly: boolean;
}

/** A disk the attach task creates first (a disk given inline in the attachment). */
export type NewDiskRow = Pick<Disk, 'id' | 'name' | 'description' | 'storageDomainId' | 'provisionedSize' | 'format' | 'sparse'>;

export interface AttachDiskParams {
  diskId: string;
  attachmentId: string;
  fields: AttachmentFields;
  newDisk?: NewDiskRow;
}

export interface UpdateAttachmentParams {
  diskId: string;
  fields: Partial<AttachmentFields>;
}

export interface NicFields {
  name: string;
  nicInterface: NicInterface;
  vnicProfileId: string | null;
  linked: boolean;
  plugged: boolean;
}

export interface AddNicParams {
  nicId: string;
  fields: NicFields;
  requestedMac?: string;
}

export interface UpdateNicParams {
  nicId: string;
  fields: Partial<NicFields>;
  requestedMac?: string;
}

export interface CreateDisksParams {
  disks: Array<{ diskId: string } & VolumeSource>;
}

export const vmDeviceActions = ['attach_disk', 'update_disk_attachment', 'detach_disk', 'add_nic', 'update_nic', 'remove_nic', 'create_disks'] as const;

/**
 * Changes the devices of a VM, as tasks on the VM's queue: the database
 * change and the host change succeed together or not at all. A running VM
 * gets the device plugged or unplugged where the hypervisor can; a VM
 * defined on a host is redefined; the change is undone when the host refuses.
 */
export class VmDeviceRunner implements TaskRunner {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly sync: DeviceSync,
    private readonly volumes: DiskVolumes,
    private readonly macPools: MacAddresses,
  ) {}

  async run(task: Task): Promise<void> {
    const vm = this.records.vm(task.objectId);
    if (!vm) throw notFound('VM', task.objectId);
    try {
      switch (task.action) {
        case 'attach_disk':
          return await this.attachDisk(task, vm, paramsOf<AttachDiskParams>(task));
        case 'update_disk_attachment':
          return await this.updateAttachment(task, vm, paramsOf<UpdateAttachmentParams>(task));
        case 'detach_disk':
          return await this.detachDisk(task, vm, paramsOf<{ diskId: string }>(task).diskId);
        case 'add_nic':
          return await this.addNic(task, vm, paramsOf<AddNicParams>(task));
        case 'update_nic':
          return await this.updateNic(task, vm, paramsOf<UpdateNicParams>(task));
        case 'remove_nic':
          return await this.removeNic(task, vm, paramsOf<{ nicId: string }>(task).nicId);
        case 'create_disks':
          return await this.createDisks(task, paramsOf<CreateDisksParams>(task));
      }
    } finally {
      this.devices.changed(vm.id);
    }
  }

  private async attachDisk(task: Task, vm: VmRecord, params: AttachDiskParams): Promise<void> {
    const em = reader(this.orm);
    if (params.newDisk && !(await em.findOne(Disk, { id: params.newDisk.id }))) {
      const now = Date.now();
      await inTransaction(this.orm, async (tx) => {
        tx.create(Disk, { ...params.newDisk!, actualSize: 0, status: 'locked', parentDiskId: null, templateId: null, createdAt: now, updatedAt: now });
      });
    }
    if (params.newDisk) {
      try {
        await this.volumes.create(`${task.id}:volume`, task.id, params.diskId);
      } catch (error) {
        await runStatement(em, 'delete from disks where id = ?', [params.diskId]);
        throw error;
      }
    }
    try {
      await checkAttachable(em, vm, params.diskId, params.fields, params.attachmentId);
      if (isRunning(vm) && params.fields.active && params.fields.diskInterface === 'ide') throw conflict('an IDE disk cannot be plugged into a running VM');
      await this.sync.change(
        this.step(task),
        vm.id,
        { id: params.diskId, plugging: params.fields.active ? 'plug' : 'none' },
        async () => {
          if (await em.findOne(DiskAttachment, { id: params.attachmentId })) return;
          await inTransaction(this.orm, async (tx) => {
            tx.create(DiskAttachment, { id: params.attachmentId, diskId: params.diskId, vmId: vm.id, templateId: null, ...params.fields, createdAt: Date.now() });
          });
        },
        () => runStatement(em, 'delete from disk_attachments where id = ?', [params.attachmentId]),
      );
    } catch (error) {
      if (params.newDisk) await this.volumes.remove(`${task.id}:discard`, task.id, params.diskId);
      throw error;
    }
  }

  private async updateAttachment(task: Task, vm: VmRecord, params: UpdateAttachmentParams): Promise<void> {
    const em = reader(this.orm);
    const attachment = await em.findOne(DiskAttachment, { diskId: params.diskId, vmId: vm.id });
    if (!attachment) throw notFound(`disk attachment of VM ${vm.name}:`, params.diskId);
    const before: AttachmentFields = { diskInterface: attachment.diskInterface, bootable: attachment.bootable, active: attachment.active, readOnly: attachment.readOnly };
    const after = { ...before, ...params.fields };
    if (isRunning(vm)) {
      const others = (Object.keys(after) as (keyof AttachmentFields)[]).filter((key) => key !== 'active' && after[key] !== before[key]);
      if (others.length) throw conflict(`VM ${vm.name} is running; only active can change on a running VM (stop it to change ${others.join(', ')})`);
    }
    if (after.bootable && !before.bootable) await checkSingleBootable(em, vm, attachment.id);
    const write = (fields: AttachmentFields) =>
      runStatement(em, 'update disk_attachments set disk_interface = ?, bootable = ?, active = ?, read_only = ? where id = ?', [fields.diskInterface, fields.bootable, fields.active, fields.readOnly, attachment.id]);
    const plugging = after.active === before.active ? 'none' : after.active ? 'plug' : 'unplug';
    await this.sync.change(this.step(task), vm.id, { id: params.diskId, plugging }, () => write(after), () => write(before));
  }

  private async detachDisk(task: Task, vm: VmRecord, diskId: string): Promise<void> {
    const em = reader(this.orm);
    const attachment = await em.findOne(DiskAttachment, { diskId, vmId: vm.id });
    if (!attachment) return;
    await this.sync.change(
      this.step(task),
      vm.id,
      { id: diskId, plugging: attachment.active ? 'unplug' : 'none' },
      () => runStatement(em, 'delete from disk_attachments where id = ?', [attachment.id]),
      () => inTransaction(this.orm, async (tx) => void tx.create(DiskAttachment, { ...attachment })),
    );
  }

  private async addNic(task: Task, vm: VmRecord, params: AddNicParams): Promise<void> {
    const em = reader(this.orm);
    const cluster = await em.findOne(Cluster, { id: vm.clusterId });
    if (!cluster) throw notFound('cluster', vm.clusterId);
    await this.sync.change(
      this.step(task),
      vm.id,
      { id: params.nicId, plugging: params.fields.plugged ? 'plug' : 'none' },
      async () => {
        if (await em.findOne(Nic, { id: params.nicId })) return;
        await checkNicName(em, vm, params.fields.name);
        await this.macPools.exclusively(cluster.macPoolId, () =>
          inTransaction(this.orm, async (tx) => {
            const mac = await this.macPools.allocate(tx, cluster.macPoolId, params.requestedMac);
            const now = Date.now();
            tx.create(Nic, { id: params.nicId, vmId: vm.id, templateId: null, mac, macPoolId: cluster.macPoolId, ...params.fields, createdAt: now, updatedAt: now });
          }),
        );
      },
      () => runStatement(em, 'delete from nics where id = ?', [params.nicId]),
    );
  }

  private async updateNic(task: Task, vm: VmRecord, params: UpdateNicParams): Promise<void> {
    const em = reader(this.orm);
    const nic = await em.findOne(Nic, { id: params.nicId, vmId: vm.id });
    if (!nic) throw notFound(`NIC of VM ${vm.name}:`, params.nicId);
    const before = { ...nic };
    const fields = { ...params.fields };
    const macChange = params.requestedMac !== undefined && params.requestedMac.toLowerCase() !== nic.mac;
    if (isRunning(vm)) {
      const others = (Object.keys(fields) as (keyof NicFields)[]).filter((key) => key !== 'plugged' && fields[key] !== nic[key]);
      if (others.length || macChange) throw conflict(`VM ${vm.name} is running; only plugged can change on a running VM (stop it to change ${[...others, ...(macChange ? ['mac'] : [])].join(', ')})`);
    }
    if (fields.name !== undefined && fields.name !== nic.name) await checkNicName(em, vm, fields.name);
    const write = async (values: Partial<Nic>) => {
      await inTransaction(this.orm, async (tx) => {
        const row = await tx.findOneOrFail(Nic, { id: nic.id });
        tx.assign(row, { ...values, updatedAt: Date.now() });
      });
    };
    const plugging = fields.plugged === undefined || fields.plugged === nic.plugged ? 'none' : fields.plugged ? 'plug' : 'unplug';
    await this.sync.change(
      this.step(task),
      vm.id,
      { id: nic.id, plugging },
      async () => {
        if (!macChange) return write(fields);
        await this.macPools.exclusively(nic.macPoolId!, () =>
          inTransaction(this.orm, async (tx) => {
            const mac = await this.macPools.allocate(tx, nic.macPoolId!, params.requestedMac);
            const row = await tx.findOneOrFail(Nic, { id: nic.id });
            tx.assign(row, { ...fields, mac, updatedAt: Date.now() });
          }),
        );
      },
      () => write({ name: before.name, nicInterface: before.nicInterface, vnicProfileId: before.vnicProfileId, linked: before.linked, plugged: before.plugged, mac: before.mac }),
    );
  }

  private async removeNic(task: Task, vm: VmRecord, nicId: string): Promise<void> {
    const em = reader(this.orm);
    const nic = await em.findOne(Nic, { id: nicId, vmId: vm.id });
    if (!nic) return;
    await this.sync.change(
      this.step(task),
      vm.id,
      { id: nic.id, plugging: nic.plugged ? 'unplug' : 'none' },
      () => runStatement(em, 'delete from nics where id = ?', [nic.id]),
      () => inTransaction(this.orm, async (tx) => void tx.create(Nic, { ...nic })),
    );
  }

  private step(task: Task) {
    return { commandId: `${task.id}:sync`, taskId: task.id };
  }

  /** Creates the volumes of a new VM's disks (copies of its template's), one after another. */
  private async createDisks(task: Task, params: CreateDisksParams): Promise<void> {
    for (const disk of params.disks) await this.volumes.create(`${task.id}:${disk.diskId}`, task.id, disk.diskId, disk);
  }
}

/** Refuses an attachment that cannot be: a disk that is not ok, a template's, attached elsewhere, or on another host's local storage. */
export async function checkAttachable(em: EntityManager, vm: VmRecord, diskId: string, fields: Pick<AttachmentFields, 'bootable'>, attachmentId?: string): Promise<void> {
  const disk = await em.findOne(Disk, { id: diskId });
  if (!disk) throw notFound('disk', diskId);
  if (disk.templateId) throw conflict(`disk ${disk.name} belongs to a template and cannot be attached to a VM`);
  if (disk.status !== 'ok') throw conflict(`disk ${disk.name} is ${disk.status}`);
  const attachments = await em.find(DiskAttachment, { diskId });
  const elsewhere = attachments.find((attachment) => attachment.id !== attachmentId);
  if (elsewhere) {
    throw conflict(elsewhere.vmId === vm.id ? `disk ${disk.name} is already attached to VM ${vm.name}` : `disk ${disk.name} is already attached to another VM and is not shareable`);
  }
  const domain = await em.findOne(StorageDomain, { id: disk.storageDomainId });
  if (domain) await checkLocalStorage(em, vm, disk.name, domain, attachmentId);
  if (fields.bootable) await checkSingleBootable(em, vm, attachmentId);
}

/**
 * Refuses a disk on a host's local storage for a VM that cannot run on that
 * host: one defined on another host, or one that already has a disk on the
 * local storage of another host (a VM never placed included), since such a
 * VM could start nowhere.
 */
export async function checkLocalStorage(em: EntityManager, vm: VmRecord, diskName: string, domain: Pick<StorageDomain, 'storageType' | 'hostId'>, attachmentId?: string): Promise<void> {
  if (domain.storageType !== 'localfs' || !domain.hostId) return;
  const hostName = async (id: string) => (await em.findOne(Host, { id }))?.name ?? id;
  if (vm.hostId && domain.hostId !== vm.hostId) {
    throw conflict(`disk ${diskName} is on the local storage of host ${await hostName(domain.hostId)}, but VM ${vm.name} is defined on host ${await hostName(vm.hostId)}`);
  }
  const [other] = await selectRows<{ disk_name: string; host_id: string }>(
    em,
    `select d.name as disk_name, s.host_id from disk_attachments a join disks d on d.id = a.disk_id join storage_domains s on s.id = d.storage_domain_id
      where a.vm_id = ? and a.id <> ? and s.storage_type = 'localfs' and s.host_id <> ? order by a.created_at, a.id limit 1`,
    [vm.id, attachmentId ?? '', domain.hostId],
  );
  if (other) {
    throw conflict(
      `disk ${diskName} is on the local storage of host ${await hostName(domain.hostId)}, but VM ${vm.name} has disk ${other.disk_name} on the local storage of host ${await hostName(other.host_id)}; a VM's local disks must all be on one host`,
    );
  }
}

async function checkSingleBootable(em: EntityManager, vm: VmRecord, except?: string): Promise<void> {
  const bootable = await em.find(DiskAttachment, { vmId: vm.id, bootable: true });
  if (bootable.some((attachment) => attachment.id !== except)) throw conflict(`VM ${vm.name} already has a bootable disk`);
}

async function checkNicName(em: EntityManager, vm: VmRecord, name: string): Promise<void> {
  if (await em.count(Nic, { vmId: vm.id, name })) throw conflict(`VM ${vm.name} already has a NIC named ${name}`);
}
