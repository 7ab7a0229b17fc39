import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, DataCenter, Disk, Host, StorageDomain, Task, type StorageKind } from '../db/entities.js';
import type { StorageUsage } from '../../shared/model.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import { findReferenced, inTransaction, reader, updateRow, type Reference, selectRows } from '../db/store.js';
import { defined } from './datacenters.js';
import type { VmDevices } from '../state/devices.js';

export interface StorageDomainInput {
  name?: string;
  description?: string;
  storageType?: StorageKind;
  address?: string;
  path?: string;
  host?: Reference;
}

/** A storage domain with the space its disks were promised. */
export interface StorageDomainView {
  domain: StorageDomain;
  committedBytes: number;
}

export class StorageDomainService {
  constructor(
    private readonly orm: Orm,
    private readonly scheduler: TaskQueue,
    private readonly devices: VmDevices,
  ) {}

  async list(filter: { dataCenterId?: string } = {}): Promise<StorageDomainView[]> {
    const em = reader(this.orm);
    const domains = await em.find(StorageDomain, filter.dataCenterId ? { dataCenterId: filter.dataCenterId } : {}, { orderBy: { name: 'asc' } });
    return this.withCommitted(domains);
  }

  async get(id: string): Promise<StorageDomainView> {
    const domain = await reader(this.orm).findOne(StorageDomain, { id });
    if (!domain) throw notFound('storage domain', id);
    return (await this.withCommitted([domain]))[0]!;
  }

  /** The status shown to clients: the stored one, or what the running task is doing. */
  statusOf(domain: StorageDomain): string {
    const running = this.scheduler.runningAction(domain.id);
    if (running === 'activate') return 'activating';
    if (running === 'deactivate') return 'preparing_for_maintenance';
    return domain.status;
  }

  async find(reference: Reference): Promise<StorageDomain> {
    return findReferenced(reader(this.orm), StorageDomain, reference, 'storage domain');
  }

  async create(input: StorageDomainInput & { name: string; storageType: StorageKind; path: string }): Promise<StorageDomainView> {
    const domain = await inTransaction(this.orm, async (em) => {
      let hostId: string | null = null;
      if (input.storageType === 'localfs') {
        if (!input.host) throw invalid('storage_domain.host is required for localfs storage: the directory exists on that host only');
        hostId = (await findReferenced(em, Host, input.host, 'host')).id;
      } else if (input.host) {
        await findReferenced(em, Host, input.host, 'host');
      }
      if (input.storageType === 'nfs' && !input.address) throw invalid('storage_domain.storage.address is required for nfs storage');
      const now = Date.now();
      return em.create(StorageDomain, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        storageType: input.storageType,
        address: input.storageType === 'nfs' ? input.address! : '',
        path: input.path,
        hostId,
        dataCenterId: null,
        status: 'unattached',
        availableBytes: null,
        usedBytes: null,
        reportedAt: null,
        createdAt: now,
        updatedAt: now,
      });
    });
    return { domain, committedBytes: 0 };
  }

  async update(id: string, input: Pick<StorageDomainInput, 'name' | 'description'>): Promise<StorageDomainView> {
    await inTransaction(this.orm, async (em) => {
      const domain = await em.findOne(StorageDomain, { id });
      if (!domain) throw notFound('storage domain', id);
      em.assign(domain, { ...defined(input), updatedAt: Date.now() });
    });
    return this.get(id);
  }

  /** Removes a domain that holds no disks and is not active; its files stay where they are. */
  async remove(id: string): Promise<StorageDomain> {
    const removed = await inTransaction(this.orm, async (em) => {
      const domain = await em.findOne(StorageDomain, { id });
      if (!domain) throw notFound('storage domain', id);
      const disks = await em.count(Disk, { storageDomainId: id });
      if (disks > 0) throw conflict(`storage domain ${domain.name} still holds ${disks} disk(s); remove them first`);
      if (domain.status === 'active' || domain.status === 'locked') throw conflict(`storage domain ${domain.name} is ${domain.status}; deactivate it first`);
      if (this.scheduler.isBusy(id)) throw conflict(`storage domain ${domain.name} has tasks in progress`);
      em.remove(domain);
      return domain;
    });
    this.devices.changedAll();
    return removed;
  }

  /** Attaches an unattached domain to a data center and activates it (a task that prepares it on the hosts that reach it). */
  async attach(dataCenterId: string, reference: Reference, correlationId: string | null): Promise<{ domain: StorageDomain; task: Task }> {
    const domain = await inTransaction(this.orm, async (em) => {
      const dataCenter = await em.findOne(DataCenter, { id: dataCenterId });
      if (!dataCenter) throw notFound('data center', dataCenterId);
      const domain = await findReferenced(em, StorageDomain, reference, 'storage domain');
      if (domain.dataCenterId === dataCenterId) throw conflict(`storage domain ${domain.name} is already attached to data center ${dataCenter.name}`);
      if (domain.dataCenterId) throw conflict(`storage domain ${domain.name} is attached to another data center; detach it first`);
      if (domain.hostId) {
        const host = await em.findOne(Host, { id: domain.hostId });
        const cluster = host ? await em.findOne(Cluster, { id: host.clusterId }) : null;
        if (cluster?.dataCenterId !== dataCenterId) throw conflict(`the host of local storage domain ${domain.name} is not in data center ${dataCenter.name}`);
      }
      em.assign(domain, { dataCenterId, status: 'maintenance', updatedAt: Date.now() });
      return domain;
    });
    const task = await this.requestAction(domain.id, 'activate', correlationId);
    return { domain, task };
  }

  /** Detaches a domain in maintenance from its data center. */
  async detach(dataCenterId: string, id: string): Promise<StorageDomain> {
    return inTransaction(this.orm, async (em) => {
      const domain = await em.findOne(StorageDomain, { id, dataCenterId });
      if (!domain) throw notFound(`storage domain attached to data center ${dataCenterId}:`, id);
      if (domain.status !== 'maintenance') throw conflict(`storage domain ${domain.name} is ${domain.status}; deactivate it before detaching it`);
      if (this.scheduler.isBusy(id)) throw conflict(`storage domain ${domain.name} has tasks in progress`);
      em.assign(domain, { dataCenterId: null, status: 'unattached', updatedAt: Date.now() });
      return domain;
    });
  }

  async requestAction(id: string, action: 'activate' | 'deactivate', correlationId: string | null): Promise<Task> {
    const domain = await reader(this.orm).findOne(StorageDomain, { id });
    if (!domain) throw notFound('storage domain', id);
    if (!domain.dataCenterId) throw conflict(`storage domain ${domain.name} is not attached to a data center`);
    return this.scheduler.submit({ objectType: 'storage_domain', objectId: id, action, correlationId });
  }

  /** Records the space a host reported for a domain. */
  async recordUsage(usage: StorageUsage): Promise<void> {
    await updateRow(this.orm, 'storage_domains', 'id', usage.storageId, { availableBytes: usage.availableBytes, usedBytes: usage.usedBytes, reportedAt: Date.now() });
  }

  /**
   * Records the space a host reports of a storage domain, when the domain is
   * the host's to report: its own localfs domain, or a shared one in the
   * host's data center. Returns whether it was.
   */
  async hostReportedUsage(hostId: string, usage: StorageUsage): Promise<boolean> {
    const [domain] = await selectRows<{ host_id: string | null; data_center_id: string | null; host_data_center_id: string | null }>(
      this.orm,
      `select s.host_id, s.data_center_id, (select c.data_center_id from hosts h join clusters c on c.id = h.cluster_id where h.id = ?) as host_data_center_id
         from storage_domains s where s.id = ?`,
      [hostId, usage.storageId],
    );
    if (!domain) return false;
    const reachable = domain.host_id === null ? domain.data_center_id !== null && domain.data_center_id === domain.host_data_center_id : domain.host_id === hostId;
    if (!reachable) return false;
    await this.recordUsage(usage);
    return true;
  }

  private async withCommitted(domains: StorageDomain[]): Promise<StorageDomainView[]> {
    if (domains.length === 0) return [];
    const rows = await selectRows<{ storage_domain_id: string; committed: number | string }>(this.orm, 
        `select storage_domain_id, sum(provisioned_size) as committed from disks where storage_domain_id in (${domains.map(() => '?').join(', ')}) group by storage_domain_id`,
        domains.map((domain) => domain.id),
      );
    const committed = new Map(rows.map((row) => [row.storage_domain_id, Number(row.committed)]));
    return domains.map((domain) => ({ domain, committedBytes: committed.get(domain.id) ?? 0 }));
  }
}
