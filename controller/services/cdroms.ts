import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, StorageDomain, type Task } from '../db/entities.js';
import type { IsoFileFacts } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { reader, selectRows } from '../db/store.js';
import { cdromId, checkIsoFileName } from '../rules/cdrom.js';
import { storageSpecOf } from '../rules/devices.js';
import { conflict, invalid, notFound, unavailable } from '../rules/errors.js';
import { outcomeError } from '../rules/outcomes.js';
import { isRunning } from '../rules/power-states.js';
import type { Records, VmRecord } from '../state/records.js';
import type { StorageAccess } from '../tasks/storage-access.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import type { ChangeCdromParams } from '../tasks/cdrom-runner.js';

/**
 * A VM's CD-ROM drive and what it holds: a file of a storage domain's ISO
 * directory (`storageDomainId` null when the hypervisor reports a file from
 * elsewhere, `fileName` then its path), or nothing.
 */
export interface CdromView {
  vmId: string;
  medium: { storageDomainId: string | null; fileName: string } | null;
}

/** A file of a storage domain's ISO directory. */
export interface IsoFileView {
  storageDomainId: string;
  file: IsoFileFacts;
}

/**
 * Every VM has one CD-ROM drive (oVirt's id 00000000-0000-0000-0000-000000000000).
 * Its medium is a file of the ISO directory of an active storage domain of
 * the VM's data center, which a host that reaches the domain lists; a change
 * is a task on the VM (see CdromRunner).
 */
export class CdromService {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly scheduler: TaskQueue,
    private readonly access: StorageAccess,
    private readonly hub: AgentHub,
  ) {}

  /** What the drive holds: what the VM starts with, or with `current` what its running guest's drive holds, as its host reports. */
  async get(vmId: string, id: string, current: boolean): Promise<CdromView> {
    const vm = this.vmOf(vmId);
    this.checkCdromId(id);
    if (current && isRunning(vm)) return { vmId, medium: await this.liveMedium(vm) };
    const rows = await selectRows<{ storage_domain_id: string; file_name: string }>(this.orm, 'select storage_domain_id, file_name from vm_cdroms where vm_id = ?', [vmId]);
    const row = rows[0];
    return { vmId, medium: row ? { storageDomainId: row.storage_domain_id, fileName: row.file_name } : null };
  }

  /**
   * Inserts the ISO file `fileName` (from the storage domain `storageDomainId`,
   * or the one active storage domain of the VM's data center that has it), or
   * ejects when `fileName` is empty: in what the VM starts with, or with
   * `current` in the running guest's drive only.
   */
  async change(vmId: string, id: string, request: { fileName: string; storageDomainId?: string; current: boolean }, correlationId: string | null): Promise<Task> {
    const vm = this.vmOf(vmId);
    this.checkCdromId(id);
    if (request.current && !isRunning(vm)) throw conflict(`VM ${vm.name} is not running; change its CD-ROM without current=true to change what it starts with`);
    const medium = request.fileName === '' ? null : await this.locate(vm, checkIsoFileName(request.fileName, 'cdrom.file.id'), request.storageDomainId);
    const params: ChangeCdromParams = { medium, current: request.current };
    return this.scheduler.submit({ objectType: 'vm', objectId: vmId, action: 'change_cdrom', params, correlationId });
  }

  /** The files of a storage domain's ISO directory, as a host that reaches the domain lists them. */
  async isoFiles(storageDomainId: string): Promise<IsoFileView[]> {
    const domain = await reader(this.orm).findOne(StorageDomain, { id: storageDomainId });
    if (!domain) throw notFound('storage domain', storageDomainId);
    return (await this.list(domain)).map((file) => ({ storageDomainId, file }));
  }

  async isoFile(storageDomainId: string, name: string): Promise<IsoFileView> {
    const found = (await this.isoFiles(storageDomainId)).find((view) => view.file.name === name);
    if (!found) throw notFound(`ISO file`, `${name} of storage domain ${storageDomainId}`);
    return found;
  }

  private async locate(vm: VmRecord, fileName: string, storageDomainId: string | undefined): Promise<{ storageDomainId: string; fileName: string }> {
    const em = reader(this.orm);
    const cluster = await em.findOneOrFail(Cluster, { id: vm.clusterId });
    if (storageDomainId !== undefined) {
      const domain = await em.findOne(StorageDomain, { id: storageDomainId });
      if (!domain) throw notFound('storage domain', storageDomainId);
      if (domain.dataCenterId !== cluster.dataCenterId || domain.status !== 'active') throw conflict(`storage domain ${domain.name} is not active in the data center of VM ${vm.name}`);
      if (!(await this.list(domain)).some((file) => file.name === fileName)) throw notFound('ISO file', `${fileName} of storage domain ${domain.name}`);
      return this.reachable(vm, fileName, domain);
    }
    const domains = await em.find(StorageDomain, { dataCenterId: cluster.dataCenterId, status: 'active' }, { orderBy: { name: 'asc' } });
    const holding: StorageDomain[] = [];
    for (const domain of domains) if ((await this.list(domain)).some((file) => file.name === fileName)) holding.push(domain);
    if (holding.length === 0) throw notFound('ISO file', `${fileName} in the active storage domains of the data center of VM ${vm.name}`);
    if (holding.length > 1) throw invalid(`the ISO file ${fileName} is in storage domains ${holding.map((domain) => domain.name).join(', ')}; name one in cdrom.file.storage_domain`);
    return this.reachable(vm, fileName, holding[0]!);
  }

  /** The medium, when the VM's host reaches its storage domain: a VM defined on a host takes no ISO file from another host's local storage. */
  private reachable(vm: VmRecord, fileName: string, domain: StorageDomain): { storageDomainId: string; fileName: string } {
    if (domain.storageType === 'localfs' && vm.hostId && domain.hostId !== vm.hostId) {
      const hostName = (id: string | null) => this.records.host(id)?.name ?? id;
      throw conflict(`the ISO file ${fileName} is on the local storage of host ${hostName(domain.hostId)}, but VM ${vm.name} is defined on host ${hostName(vm.hostId)}`);
    }
    return { storageDomainId: domain.id, fileName };
  }

  private async list(domain: StorageDomain): Promise<IsoFileFacts[]> {
    const host = await this.access.hostFor(domain);
    const outcome = await this.hub.dispatch(host.id, { commandId: `list-iso-files:${randomUUID()}`, taskId: '', kind: 'list_iso_files', storage: storageSpecOf(domain) });
    if (!outcome.ok) throw outcomeError(outcome);
    return outcome.isoFiles ?? [];
  }

  private async liveMedium(vm: VmRecord): Promise<CdromView['medium']> {
    const hostId = vm.hostId!;
    if (this.records.host(hostId)?.status !== 'up' || !this.hub.isConnected(hostId)) throw unavailable(`host ${hostId} of VM ${vm.name} does not respond; what its guest's drive holds cannot be told`);
    const outcome = await this.hub.dispatch(hostId, { commandId: `read-medium:${randomUUID()}`, taskId: '', kind: 'read_medium', vmId: vm.id });
    if (!outcome.ok) throw outcomeError(outcome);
    const medium = outcome.medium;
    if (!medium || medium.name === '') return null;
    return { storageDomainId: medium.storageId || null, fileName: medium.name };
  }

  private vmOf(vmId: string): VmRecord {
    const vm = this.records.vm(vmId);
    if (!vm) throw notFound('VM', vmId);
    return vm;
  }

  private checkCdromId(id: string): void {
    if (id !== cdromId) throw notFound('CD-ROM', `${id} (a VM's one CD-ROM drive has the id ${cdromId})`);
  }
}
