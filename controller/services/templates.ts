import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, Disk, DiskAttachment, Nic, StorageDomain, Template, Vm, VmPool, blankTemplateId, type Task } from '../db/entities.js';
import type { VmInput } from './vms.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import { isRunning } from '../rules/power-states.js';
import type { TemplateCopies } from '../tasks/template-runner.js';
import { conflict, notFound } from '../rules/errors.js';
import { findReferenced, inTransaction, reader, type Reference } from '../db/store.js';
import { settingsFrom, settingsPatch } from './datacenters.js';
import { checkGuestHardware } from '../rules/guest-hardware.js';
import type { Records } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';
import type { EntityManager } from '@mikro-orm/core';

/** A template has a VM's settings, without a VM's cloud-init settings. */
export type TemplateInput = Omit<VmInput, 'initialization'>;

export class TemplateService {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly scheduler: TaskQueue,
  ) {}

  list(filter: { clusterId?: string } = {}): Promise<Template[]> {
    return reader(this.orm).find(Template, filter.clusterId ? { clusterId: filter.clusterId } : {}, { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<Template> {
    const found = await reader(this.orm).findOne(Template, { id });
    if (!found) throw notFound('template', id);
    return found;
  }

  find(reference: Reference): Promise<Template> {
    return findReferenced(reader(this.orm), Template, reference, 'template');
  }

  /**
   * Makes a template of a VM that is down: the VM's settings, copies of its
   * disks (made by a task, during which the VM's disks are locked), and its
   * NICs without addresses. The VM's disks are locked in the same step as
   * the VM is found down and idle, so it cannot start while they are copied.
   */
  async create(input: TemplateInput & { name: string; vm: Reference }, correlationId: string | null): Promise<{ template: Template; task: Task }> {
    const em = reader(this.orm);
    const vm = await findReferenced(em, Vm, input.vm, 'VM');
    const sourceIds = (await em.find(DiskAttachment, { vmId: vm.id }, { orderBy: { createdAt: 'asc', id: 'asc' } })).map((attachment) => attachment.diskId);
    const live = this.records.vm(vm.id);
    if (!live) throw notFound('VM', vm.id);
    if (isRunning(live) || this.scheduler.isBusy(vm.id)) throw conflict(`VM ${vm.name} must be down, with no task in progress, to make a template of it`);
    await this.devices.lockDisks(sourceIds, `a template copy of VM ${vm.name}`);
    let created: { template: Template; copies: TemplateCopies['copies'] };
    try {
      created = await inTransaction(this.orm, (tx) => this.createRows(tx, input, vm, sourceIds));
    } catch (error) {
      await this.devices.unlockDisks(sourceIds, 'ok');
      throw error;
    }
    const { template, copies } = created;
    const copied = new Set(copies.map((copy) => copy.copyOfDiskId));
    const uncopied = sourceIds.filter((id) => !copied.has(id));
    if (uncopied.length) await this.devices.unlockDisks(uncopied, 'ok');
    const params: TemplateCopies = { copies, sourceVmId: vm.id };
    const task = await this.scheduler.submit({ objectType: 'template', objectId: template.id, vmId: vm.id, action: 'create', params, correlationId });
    return { template, task };
  }

  private async createRows(em: EntityManager, input: TemplateInput & { name: string }, vm: Vm, sourceIds: string[]): Promise<{ template: Template; copies: TemplateCopies['copies'] }> {
    const cluster = input.cluster ? await findReferenced(em, Cluster, input.cluster, 'cluster') : undefined;
    const now = Date.now();
    const template = em.create(Template, {
      id: randomUUID(),
      name: input.name,
      ...settingsFrom(input, vm),
      clusterId: cluster?.id ?? vm.clusterId,
      status: 'locked',
      sourceVmId: vm.id,
      createdAt: now,
      updatedAt: now,
    });
    await em.flush();
    const copies: TemplateCopies['copies'] = [];
    const attachments = await em.find(DiskAttachment, { vmId: vm.id, diskId: { $in: sourceIds } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    for (const attachment of attachments) {
      const source = await em.findOneOrFail(Disk, { id: attachment.diskId });
      const domain = await em.findOneOrFail(StorageDomain, { id: source.storageDomainId });
      if (domain.status !== 'active') throw conflict(`storage domain ${domain.name} of disk ${source.name} is ${domain.status}`);
      const copy = em.create(Disk, {
        id: randomUUID(),
        name: source.name,
        description: source.description,
        storageDomainId: source.storageDomainId,
        provisionedSize: source.provisionedSize,
        actualSize: 0,
        format: source.format,
        sparse: source.sparse,
        status: 'locked',
        parentDiskId: null,
        templateId: template.id,
        createdAt: now,
        updatedAt: now,
      });
      await em.flush();
      em.create(DiskAttachment, { ...attachment, id: copy.id, diskId: copy.id, vmId: null, templateId: template.id, createdAt: now });
      copies.push({ diskId: copy.id, copyOfDiskId: source.id });
    }
    for (const nic of await em.find(Nic, { vmId: vm.id })) {
      em.create(Nic, { ...nic, id: randomUUID(), vmId: null, templateId: template.id, mac: '', macPoolId: null, createdAt: now, updatedAt: now });
    }
    return { template, copies };
  }

  async update(id: string, input: TemplateInput): Promise<Template> {
    return inTransaction(this.orm, async (em) => {
      const template = await em.findOne(Template, { id });
      if (!template) throw notFound('template', id);
      if (id === blankTemplateId && input.name !== undefined && input.name !== template.name) throw conflict('the Blank template cannot be renamed');
      const { cpu, cluster, ...fields } = input;
      if (cluster) template.clusterId = (await findReferenced(em, Cluster, cluster, 'cluster')).id;
      em.assign(template, settingsPatch(template, fields, cpu));
      checkGuestHardware(template, `template ${template.name}`);
      return template;
    });
  }

  /** Removes a template no VM or pool uses, with its disks' volumes (a task). */
  async remove(id: string, correlationId: string | null): Promise<Task> {
    await inTransaction(this.orm, async (em) => {
      const template = await em.findOne(Template, { id });
      if (!template) throw notFound('template', id);
      if (id === blankTemplateId) throw conflict('the Blank template cannot be removed');
      if (template.status === 'locked' || this.scheduler.isBusy(id)) throw conflict(`template ${template.name} is locked by a task in progress`);
      const vms = await em.count(Vm, { templateId: id });
      const pools = await em.count(VmPool, { templateId: id });
      if (vms + pools > 0) throw conflict(`template ${template.name} is used by ${vms} VM(s) and ${pools} VM pool(s)`);
      template.status = 'locked';
    });
    return this.scheduler.submit({ objectType: 'template', objectId: id, action: 'remove', correlationId });
  }
}
