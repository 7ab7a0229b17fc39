import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, DiskAttachment, Nic, Network, Template, VnicProfile, type Task } from '../db/entities.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import {
  checkAttachable,
  checkLocalStorage,
  type AddNicParams,
  type AttachDiskParams,
  type AttachmentFields,
  type NicFields,
  type UpdateAttachmentParams,
  type UpdateNicParams,
} from '../tasks/vm-device-runner.js';
import { conflict, notFound } from '../rules/errors.js';
import type { DiskService, NewDisk } from './disks.js';
import { findReferenced, inTransaction, reader, type Reference } from '../db/store.js';
import type { Records, VmRecord } from '../state/records.js';

/** The owner of a device: a VM, or a template (whose devices are read-only through these calls). */
export type DeviceOwner = { vmId: string } | { templateId: string };

const ownerWhere = (owner: DeviceOwner) => ('vmId' in owner ? { vmId: owner.vmId } : { templateId: owner.templateId });

/**
 * Reads the devices of VMs and templates, and turns requests to change a
 * VM's devices into tasks on the VM (after checking what can be checked at
 * once; the task checks again when it runs).
 */
export class VmDeviceRequests {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly scheduler: TaskQueue,
    private readonly disks: DiskService,
  ) {}

  async attachments(owner: DeviceOwner): Promise<DiskAttachment[]> {
    await this.checkOwner(owner);
    return reader(this.orm).find(DiskAttachment, ownerWhere(owner), { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async attachment(owner: DeviceOwner, diskId: string): Promise<DiskAttachment> {
    await this.checkOwner(owner);
    const found = await reader(this.orm).findOne(DiskAttachment, { ...ownerWhere(owner), diskId });
    if (!found) throw notFound('disk attachment', diskId);
    return found;
  }

  async nics(owner: DeviceOwner): Promise<Nic[]> {
    await this.checkOwner(owner);
    return reader(this.orm).find(Nic, ownerWhere(owner), { orderBy: { name: 'asc', id: 'asc' } });
  }

  async nic(owner: DeviceOwner, id: string): Promise<Nic> {
    await this.checkOwner(owner);
    const found = await reader(this.orm).findOne(Nic, { ...ownerWhere(owner), id });
    if (!found) throw notFound('NIC', id);
    return found;
  }

  /** Attaches an existing disk, or a new one given inline (created on its storage domain by the same task). */
  async attachDisk(vmId: string, request: { disk?: Reference; newDisk?: NewDisk; fields: AttachmentFields }, correlationId: string | null): Promise<{ task: Task; diskId: string }> {
    const vm = this.vmOf(vmId);
    const em = reader(this.orm);
    let params: AttachDiskParams;
    if (request.newDisk) {
      const { disk, domain } = await this.disks.plan(em, request.newDisk);
      em.clear();
      await checkLocalStorage(em, vm, disk.name, domain);
      params = {
        diskId: disk.id,
        attachmentId: disk.id,
        fields: request.fields,
        newDisk: { id: disk.id, name: disk.name, description: disk.description, storageDomainId: disk.storageDomainId, provisionedSize: disk.provisionedSize, format: disk.format, sparse: disk.sparse },
      };
    } else {
      const disk = await this.disks.get(request.disk?.id ?? '').catch(async () => {
        if (!request.disk?.name) throw notFound('disk', request.disk?.id ?? '');
        const byName = (await this.disks.list()).filter((view) => view.disk.name === request.disk!.name);
        if (byName.length !== 1) throw byName.length ? conflict(`${byName.length} disks are named ${request.disk.name}; refer to the disk by id`) : notFound('disk', request.disk.name);
        return byName[0]!;
      });
      await checkAttachable(em, vm, disk.disk.id, request.fields);
      params = { diskId: disk.disk.id, attachmentId: disk.disk.id, fields: request.fields };
    }
    const task = await this.scheduler.submit({ objectType: 'vm', objectId: vm.id, action: 'attach_disk', params, correlationId });
    return { task, diskId: params.diskId };
  }

  async updateAttachment(vmId: string, diskId: string, fields: Partial<AttachmentFields>, correlationId: string | null): Promise<Task> {
    await this.attachment({ vmId }, diskId);
    const params: UpdateAttachmentParams = { diskId, fields };
    return this.scheduler.submit({ objectType: 'vm', objectId: vmId, action: 'update_disk_attachment', params, correlationId });
  }

  async detachDisk(vmId: string, diskId: string, correlationId: string | null): Promise<Task> {
    await this.attachment({ vmId }, diskId);
    return this.scheduler.submit({ objectType: 'vm', objectId: vmId, action: 'detach_disk', params: { diskId }, correlationId });
  }

  async addNic(vmId: string, request: { fields: Omit<NicFields, 'vnicProfileId'> & { vnicProfile?: Reference | null }; mac?: string }, correlationId: string | null): Promise<{ task: Task; nicId: string }> {
    const vm = this.vmOf(vmId);
    const { vnicProfile, ...fields } = request.fields;
    const vnicProfileId = await this.profileFor(vm, vnicProfile);
    if (await reader(this.orm).count(Nic, { vmId, name: fields.name })) throw conflict(`VM ${vm.name} already has a NIC named ${fields.name}`);
    const params: AddNicParams = { nicId: randomUUID(), fields: { ...fields, vnicProfileId }, requestedMac: request.mac };
    const task = await this.scheduler.submit({ objectType: 'vm', objectId: vm.id, action: 'add_nic', params, correlationId });
    return { task, nicId: params.nicId };
  }

  async updateNic(vmId: string, nicId: string, request: { fields: Partial<Omit<NicFields, 'vnicProfileId'>> & { vnicProfile?: Reference | null }; mac?: string }, correlationId: string | null): Promise<Task> {
    const vm = this.vmOf(vmId);
    await this.nic({ vmId }, nicId);
    const { vnicProfile, ...fields } = request.fields;
    const params: UpdateNicParams = { nicId, fields: { ...fields, ...(vnicProfile !== undefined ? { vnicProfileId: await this.profileFor(vm, vnicProfile) } : {}) }, requestedMac: request.mac };
    return this.scheduler.submit({ objectType: 'vm', objectId: vmId, action: 'update_nic', params, correlationId });
  }

  async removeNic(vmId: string, nicId: string, correlationId: string | null): Promise<Task> {
    await this.nic({ vmId }, nicId);
    return this.scheduler.submit({ objectType: 'vm', objectId: vmId, action: 'remove_nic', params: { nicId }, correlationId });
  }

  private vmOf(vmId: string): VmRecord {
    const vm = this.records.vm(vmId);
    if (!vm) throw notFound('VM', vmId);
    return vm;
  }

  private async checkOwner(owner: DeviceOwner): Promise<void> {
    if ('vmId' in owner) this.vmOf(owner.vmId);
    else if (!(await reader(this.orm).count(Template, { id: owner.templateId }))) throw notFound('template', owner.templateId);
  }

  /** The vNIC profile a NIC of the VM may use: one of a network of the VM's data center; null for no network. */
  private async profileFor(vm: VmRecord, reference: Reference | null | undefined): Promise<string | null> {
    if (!reference) return null;
    return inTransaction(this.orm, async (em) => {
      const profile = await findReferenced(em, VnicProfile, reference, 'vNIC profile');
      const network = await em.findOne(Network, { id: profile.networkId });
      const cluster = await em.findOne(Cluster, { id: vm.clusterId });
      if (network?.dataCenterId !== cluster?.dataCenterId) throw conflict(`vNIC profile ${profile.name} belongs to a network of another data center than VM ${vm.name}'s`);
      return profile.id;
    });
  }
}
