import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, Host, Task, Vm } from '../db/entities.js';
import type { DisplayType } from '../../shared/model.js';
import type { TaskScheduler } from '../scheduler/task-scheduler.js';
import type { VmAction } from '../scheduler/vm-actions.js';
import { conflict, notFound } from './errors.js';
import { inTransaction, reader } from './store.js';
import { defined } from './datacenters.js';
import { vmStatus, type VmStatus } from './vm-status.js';

export interface VmInput {
  name?: string;
  description?: string;
  memoryBytes?: number;
  cpu?: { sockets?: number; cores?: number; threads?: number };
  osType?: string;
  displayType?: DisplayType;
  cluster?: { id?: string; name?: string };
}

/** A VM with what it takes to describe it: its status and its host's name. */
export interface VmView {
  vm: Vm;
  status: VmStatus;
}

export class VmService {
  constructor(
    private readonly orm: Orm,
    private readonly scheduler: TaskScheduler,
  ) {}

  async list(filter: { name?: string } = {}): Promise<VmView[]> {
    const em = reader(this.orm);
    const where = filter.name === undefined ? {} : { name: filter.name.includes('*') ? { $ilike: filter.name.replaceAll('*', '%') } : filter.name };
    const vms = await em.find(Vm, where, { orderBy: { name: 'asc' } });
    return this.describe(vms);
  }

  async get(id: string): Promise<VmView> {
    const vm = await reader(this.orm).findOne(Vm, { id });
    if (!vm) throw notFound('VM', id);
    const [view] = await this.describe([vm]);
    return view!;
  }

  async create(input: VmInput & { name: string; memoryBytes: number; cluster: { id?: string; name?: string } }): Promise<VmView> {
    const vm = await inTransaction(this.orm, async (em) => {
      const cluster = await em.findOne(Cluster, input.cluster.id ? { id: input.cluster.id } : { name: input.cluster.name ?? '' });
      if (!cluster) throw notFound('cluster', input.cluster.id ?? input.cluster.name ?? '');
      const now = Date.now();
      return em.create(Vm, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        memoryBytes: input.memoryBytes,
        cpuSockets: input.cpu?.sockets ?? 1,
        cpuCores: input.cpu?.cores ?? 1,
        cpuThreads: input.cpu?.threads ?? 1,
        osType: input.osType ?? 'other',
        displayType: input.displayType ?? 'vnc',
        clusterId: cluster.id,
        desiredState: 'down',
        createdAt: now,
        updatedAt: now,
      });
    });
    return this.get(vm.id);
  }

  async update(id: string, input: VmInput): Promise<VmView> {
    await inTransaction(this.orm, async (em) => {
      const vm = await em.findOne(Vm, { id });
      if (!vm) throw notFound('VM', id);
      if (input.cluster) {
        const cluster = await em.findOne(Cluster, input.cluster.id ? { id: input.cluster.id } : { name: input.cluster.name ?? '' });
        if (!cluster) throw notFound('cluster', input.cluster.id ?? input.cluster.name ?? '');
        if (cluster.id !== vm.clusterId && vm.hostId) throw conflict(`VM ${vm.name} is defined on a host; it cannot change cluster`);
        vm.clusterId = cluster.id;
      }
      const { cpu, cluster: _cluster, ...fields } = input;
      em.assign(vm, {
        ...defined(fields),
        cpuSockets: cpu?.sockets ?? vm.cpuSockets,
        cpuCores: cpu?.cores ?? vm.cpuCores,
        cpuThreads: cpu?.threads ?? vm.cpuThreads,
        updatedAt: Date.now(),
      });
    });
    return this.get(id);
  }

  requestAction(id: string, action: VmAction, correlationId: string | null): Promise<Task> {
    return this.scheduler.submit(id, action, correlationId);
  }

  async count(): Promise<{ total: number; active: number }> {
    const em = reader(this.orm);
    const [total, active] = await Promise.all([em.count(Vm, {}), em.count(Vm, { powerState: { $in: ['running', 'paused', 'shutting_down'] } })]);
    return { total, active };
  }

  private async describe(vms: Vm[]): Promise<VmView[]> {
    const hostIds = [...new Set(vms.map((vm) => vm.hostId).filter((id): id is string => id !== null))];
    const hosts = hostIds.length ? await reader(this.orm).find(Host, { id: { $in: hostIds } }) : [];
    const hostStatus = new Map(hosts.map((host) => [host.id, host.status]));
    return vms.map((vm) => ({
      vm,
      status: vmStatus(vm.powerState, vm.hostId, vm.hostId ? hostStatus.get(vm.hostId) : undefined, this.scheduler.runningAction(vm.id)),
    }));
  }
}
