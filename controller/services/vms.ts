import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import type { MigrationAffinity } from '../rules/states.js';
import { Cluster, Disk, DiskAttachment, Nic, StorageDomain, Task, Template, Vm, blankTemplateId } from '../db/entities.js';
import type { BootDevice } from '../../shared/model.js';
import { storedBootDevices } from '../rules/cdrom.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import { desiredStateAfter, type VmAction } from '../rules/vm-actions.js';
import type { CreateDisksParams } from '../tasks/vm-device-runner.js';
import type { RemoveVmParams } from '../tasks/vm-removal.js';
import { conflict, notFound } from '../rules/errors.js';
import { findReferenced, inTransaction, type Reference } from '../db/store.js';
import type { Records, VmRecord } from '../state/records.js';
import { settingsFrom, settingsPatch, type VmSettingsInput } from './datacenters.js';
import { checkGuestHardware } from '../rules/guest-hardware.js';
import { cloudInitForStart, storedInitialization, updatedInitialization, type InitializationInput, type StartVmParams } from '../rules/initialization.js';
import type { MacAddresses } from '../tasks/mac-addresses.js';
import type { VmDevices } from '../state/devices.js';
import { vmStatus, type VmStatus } from '../rules/vm-status.js';
import { isRunning } from '../rules/power-states.js';

export interface VmInput extends VmSettingsInput {
  name?: string;
  /** What the VM boots from, in order. */
  bootDevices?: BootDevice[];
  cluster?: Reference;
  /** Cloud-init settings; null clears them. An update without a root password keeps the VM's. */
  initialization?: InitializationInput;
  highlyAvailable?: boolean;
  highAvailabilityPriority?: number;
  migrationAffinity?: MigrationAffinity;
}

export interface NewVm extends VmInput {
  name: string;
  cluster: Reference;
  template?: Reference;
  /** Give the VM full copies of the template's disks instead of thin ones backed by the template's. */
  clone?: boolean;
  vmPoolId?: string;
}

/** A VM with what it takes to describe it: its status and its host's name. */
export interface VmView {
  vm: VmRecord;
  status: VmStatus;
  /** Changes whenever the VM's record changes; with the status it identifies the VM's representation. */
  revision: number;
}

export class VmService {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly scheduler: TaskQueue,
    private readonly devices: VmDevices,
    private readonly macPools: MacAddresses,
  ) {}

  /** Views of the VMs with these ids that exist, in that order. */
  views(ids: readonly string[]): VmView[] {
    return this.describe(ids.flatMap((id) => this.records.vms.get(id) ?? []));
  }

  get(id: string): VmView {
    const vm = this.records.vm(id);
    if (!vm) throw notFound('VM', id);
    return this.describe([vm])[0]!;
  }

  /**
   * Creates a VM from a template (Blank when none is named): the template's
   * settings where the input gives none, copies of its disks (thin, backed by
   * the template's, unless `clone`), and its NICs with new MAC addresses from
   * the cluster's pool. The disks' volumes are made by a task on the VM, which
   * runs before any task submitted for the VM later.
   */
  async create(input: NewVm, correlationId: string | null = null): Promise<VmView> {
    const created = await inTransaction(this.orm, async (em) => {
      const cluster = await findReferenced(em, Cluster, input.cluster, 'cluster');
      const template = input.template ? await findReferenced(em, Template, input.template, 'template') : await em.findOneOrFail(Template, { id: blankTemplateId });
      if (template.status !== 'ok') throw conflict(`template ${template.name} is ${template.status}`);
      const now = Date.now();
      const vm = em.create(Vm, {
        id: randomUUID(),
        name: input.name,
        ...settingsFrom(input, template.id === blankTemplateId ? { ...template, description: '' } : template),
        ...(input.bootDevices ? { bootDevices: storedBootDevices(input.bootDevices) } : {}),
        initialization: input.initialization ? storedInitialization(updatedInitialization(input.initialization, null)) : null,
        highlyAvailable: input.highlyAvailable ?? false,
        highAvailabilityPriority: input.highAvailabilityPriority ?? 0,
        migrationAffinity: input.migrationAffinity ?? 'migratable',
        clusterId: cluster.id,
        templateId: template.id,
        vmPoolId: input.vmPoolId ?? null,
        allocatedTo: null,
        desiredState: 'down',
        createdAt: now,
        updatedAt: now,
      });
      await em.flush();
      if (template.id === blankTemplateId) return { vm, disks: [] };
      const disks = await copyTemplateDisks(em, template, vm, cluster, input.clone ?? false);
      await this.copyTemplateNics(em, template, vm, cluster);
      return { vm, disks };
    });
    this.records.vmCreated(created.vm);
    if (created.disks.length === 0) this.devices.noDevices(created.vm.id);
    else {
      const params: CreateDisksParams = { disks: created.disks };
      await this.scheduler.submit({ objectType: 'vm', objectId: created.vm.id, action: 'create_disks', params, correlationId });
    }
    return this.get(created.vm.id);
  }

  async update(id: string, input: VmInput): Promise<VmView> {
    const updated = await inTransaction(this.orm, async (em) => {
      const vm = await em.findOne(Vm, { id });
      if (!vm) throw notFound('VM', id);
      if (input.cluster) {
        const cluster = await findReferenced(em, Cluster, input.cluster, 'cluster');
        if (cluster.id !== vm.clusterId && this.records.vm(id)?.hostId) throw conflict(`VM ${vm.name} is defined on a host; it cannot change cluster`);
        vm.clusterId = cluster.id;
      }
      const { cpu, cluster: _cluster, bootDevices, initialization, ...fields } = input;
      em.assign(vm, { ...settingsPatch(vm, fields, cpu), ...(bootDevices ? { bootDevices: storedBootDevices(bootDevices) } : {}) });
      if (initialization !== undefined) vm.initialization = storedInitialization(updatedInitialization(initialization, vm.initialization));
      checkGuestHardware(vm, `VM ${vm.name}`);
      return vm;
    });
    this.records.vmSettingsChanged(updated);
    return this.get(id);
  }

  async requestAction(id: string, action: VmAction, correlationId: string | null, params?: RemoveVmParams | StartVmParams): Promise<Task> {
    const current = this.records.vm(id);
    if (action === 'start' && current) cloudInitForStart((params ?? {}) as StartVmParams, current.initialization, current.name);
    const task = await this.scheduler.submit({ objectType: 'vm', objectId: id, action, params, correlationId });
    const desired = desiredStateAfter[action];
    const vm = this.records.vm(id);
    if (desired && vm && vm.desiredState !== desired) this.records.desiredStateAsked(id, desired);
    return task;
  }

  /** How many VMs a host has, and how many of them run. */
  hostSummary(hostId: string): { active: number; total: number } {
    let total = 0;
    let active = 0;
    for (const vm of this.records.vms.values()) {
      if (vm.hostId !== hostId) continue;
      total++;
      if (isRunning(vm)) active++;
    }
    return { active, total };
  }

  count(): { total: number; active: number } {
    let active = 0;
    for (const vm of this.records.vms.values()) if (isRunning(vm)) active++;
    return { total: this.records.vms.size, active };
  }

  private describe(vms: VmRecord[]): VmView[] {
    return vms.map((vm) => ({
      vm,
      status: vmStatus(vm.powerState, vm.hostId, this.records.host(vm.hostId)?.status, this.scheduler.runningAction(vm.id), vm.duplicateHostId),
      revision: this.records.vmRevision(vm.id),
    }));
  }

  private async copyTemplateNics(em: EntityManager, template: Template, vm: Vm, cluster: Cluster): Promise<void> {
    const nics = await em.find(Nic, { templateId: template.id }, { orderBy: { name: 'asc' } });
    if (nics.length === 0) return;
    await this.macPools.exclusively(cluster.macPoolId, async () => {
      for (const nic of nics) {
        const mac = await this.macPools.allocate(em, cluster.macPoolId, undefined);
        em.create(Nic, { ...nic, id: randomUUID(), vmId: vm.id, templateId: null, mac, macPoolId: cluster.macPoolId, createdAt: vm.createdAt, updatedAt: vm.createdAt });
        await em.flush();
      }
    });
  }
}

/** Creates the rows of a new VM's disks from its template's: thin copies backed by the template's volumes, or full copies. */
async function copyTemplateDisks(em: EntityManager, template: Template, vm: Vm, cluster: Cluster, clone: boolean): Promise<CreateDisksParams['disks']> {
  const disks: CreateDisksParams['disks'] = [];
  for (const attachment of await em.find(DiskAttachment, { templateId: template.id }, { orderBy: { createdAt: 'asc', id: 'asc' } })) {
    const source = await em.findOneOrFail(Disk, { id: attachment.diskId });
    const domain = await em.findOneOrFail(StorageDomain, { id: source.storageDomainId });
    if (domain.status !== 'active' || domain.dataCenterId !== cluster.dataCenterId) {
      throw conflict(`disk ${source.name} of template ${template.name} is on storage domain ${domain.name}, which is not active in the data center of cluster ${cluster.name}`);
    }
    const disk = em.create(Disk, {
      id: randomUUID(),
      name: `${vm.name}_${source.name}`,
      description: source.description,
      storageDomainId: source.storageDomainId,
      provisionedSize: source.provisionedSize,
      actualSize: 0,
      format: clone ? source.format : 'cow',
      sparse: clone ? source.sparse : true,
      status: 'locked',
      parentDiskId: clone ? null : source.id,
      templateId: null,
      createdAt: vm.createdAt,
      updatedAt: vm.createdAt,
    });
    await em.flush();
    em.create(DiskAttachment, { ...attachment, id: disk.id, diskId: disk.id, vmId: vm.id, templateId: null, createdAt: vm.createdAt });
    disks.push(clone ? { diskId: disk.id, copyOfDiskId: source.id } : { diskId: disk.id, backingDiskId: source.id });
  }
  return disks;
}
